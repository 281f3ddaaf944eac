-- The scale data set, generated inside SQLite (INSERT … SELECT from recursive counters: no client round trips).
-- Parameters (sqlite3 .parameter set): @users @accounts @apps @personal_keys @app_keys @subscriptions @events @now
-- (@now: .NET UTC ticks, the end of the 30 days of events). Ids are deterministic GUIDs, upper-case text as EF
-- Core stores them: '<kind>-0000-4000-8000-<n>'. Times are UTC ticks, as Portal stores DateTimeOffset on SQLite.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;

BEGIN;
CREATE TEMP TABLE n(i INTEGER PRIMARY KEY);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < max(@users, @accounts, @apps, @personal_keys, @app_keys, @subscriptions))
INSERT INTO n SELECT i FROM c;

-- Every user shares the bootstrap admin's password hash: one hash, not 100,000.
INSERT INTO AspNetUsers (Id, AccessFailedCount, ConcurrencyStamp, CreatedAt, DisplayName, Email, EmailConfirmed, LockoutEnabled,
    NormalizedEmail, NormalizedUserName, PasswordHash, PhoneNumberConfirmed, SecurityStamp, Status, TwoFactorEnabled, UserName)
SELECT printf('00000001-0000-4000-8000-%012X', i), 0, printf('%032X', i), @now - (i % 400) * 864000000000,
    printf('Scale User %d', i), printf('user%d@scale.test', i), 1, 1, printf('USER%d@SCALE.TEST', i), printf('USER%d@SCALE.TEST', i),
    (SELECT PasswordHash FROM AspNetUsers WHERE NormalizedEmail = upper(@admin)), 0, printf('S%031X', i), 'Active', 0, printf('user%d@scale.test', i)
FROM n WHERE i <= @users;
INSERT INTO AspNetUserRoles (UserId, RoleId)
SELECT printf('00000001-0000-4000-8000-%012X', i), (SELECT Id FROM AspNetRoles WHERE Name = 'developer') FROM n WHERE i <= @users;

INSERT INTO Accounts (Id, CreatedAt, Kind, Name, Status)
SELECT printf('00000002-0000-4000-8000-%012X', i), @now - (i % 400) * 864000000000, CASE WHEN i % 10 = 0 THEN 'Team' ELSE 'Person' END,
    printf('Account %d', i), 'Active'
FROM n WHERE i <= @accounts;
INSERT INTO AccountMembers (AccountId, UserId)
SELECT printf('00000002-0000-4000-8000-%012X', i), printf('00000001-0000-4000-8000-%012X', (i - 1) % @users + 1) FROM n WHERE i <= @accounts;

INSERT INTO Applications (Id, AccountId, CreatedAt, Name, ReferenceId)
SELECT printf('00000003-0000-4000-8000-%012X', i), printf('00000002-0000-4000-8000-%012X', (i - 1) % @accounts + 1),
    @now - (i % 400) * 864000000000 - i, printf('App %d', i), printf('00000004-0000-4000-8000-%012X', i)
FROM n WHERE i <= @apps;

-- Four products with one free plan each.
INSERT INTO Products (Id, CreatedAt, Name, Published, RequiresApproval, Slug, UpdatedAt)
SELECT printf('00000005-0000-4000-8000-%012X', i), @now, printf('Scale Product %d', i), 1, i % 2, printf('scale-%d', i), @now FROM n WHERE i <= 4;
INSERT INTO Plans (Id, Name, "Order", ProductId, QuotaPeriod, RateLimitWindow, Type)
SELECT printf('00000006-0000-4000-8000-%012X', i), 'Free', 0, printf('00000005-0000-4000-8000-%012X', i), 'Month', 'Minute', 'Free' FROM n WHERE i <= 4;

-- Personal keys (a few per user), then application keys; a tenth revoked, a twentieth expired.
INSERT INTO ApiKeys (Id, ApplicationId, CreatedAt, ExpiresAt, Hash, Last4, LastUsedAt, Name, OwnerUserId, RevokedAt, Scopes, Start)
SELECT printf('00000007-0000-4000-8000-%012X', i), NULL, @now - (i % 700) * 432000000000 - i,
    CASE WHEN i % 20 = 0 THEN @now - 864000000000 END, printf('%064X', i), printf('%04d', i % 10000),
    CASE WHEN i % 3 = 0 THEN @now - i * 10000000 END, printf('key %d', i), printf('00000001-0000-4000-8000-%012X', (i - 1) % @users + 1),
    CASE WHEN i % 10 = 0 THEN @now - 864000000000 END, 'read', 'ptl_scale'
FROM n WHERE i <= @personal_keys;
INSERT INTO ApiKeys (Id, ApplicationId, CreatedAt, Hash, Last4, Name, OwnerUserId, RevokedAt, Scopes, Start)
SELECT printf('00000008-0000-4000-8000-%012X', i), printf('00000003-0000-4000-8000-%012X', (i - 1) % @apps + 1), @now - (i % 700) * 432000000000 - i,
    printf('A%063X', i), printf('%04d', i % 10000), 'application key', NULL, CASE WHEN i % 10 = 0 THEN @now - 864000000000 END, 'read', 'ptl_scale'
FROM n WHERE i <= @app_keys;

-- One registration per application, over the four products, in every status.
INSERT INTO Subscriptions (Id, AccountId, ApplicationId, ApplicationName, CreatedAt, PlanId, ProductId, Status)
SELECT printf('00000009-0000-4000-8000-%012X', i), printf('00000002-0000-4000-8000-%012X', ((i - 1) % @apps) % @accounts + 1),
    printf('00000003-0000-4000-8000-%012X', (i - 1) % @apps + 1), printf('App %d', (i - 1) % @apps + 1), @now - i * 1000000000,
    printf('00000006-0000-4000-8000-%012X', i % 4 + 1), printf('00000005-0000-4000-8000-%012X', i % 4 + 1),
    CASE i % 10 WHEN 0 THEN 'Waiting' WHEN 1 THEN 'Rejected' WHEN 2 THEN 'Unsubscribed' ELSE 'Approved' END
FROM n WHERE i <= @subscriptions;
COMMIT;

