-- The scale data set, generated inside PostgreSQL (INSERT … SELECT over generate_series). psql variables: users,
-- accounts, apps, personal_keys, app_keys, subscriptions, now (a quoted UTC time), admin (a quoted email).
-- Ids are deterministic: '<kind>-0000-4000-8000-<n>', the same as on SQLite (time.sh relies on them).
\set ON_ERROR_STOP 1
BEGIN;
CREATE FUNCTION pg_temp.gid(kind int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
$$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-4000-8000-' || lpad(upper(to_hex(n)), 12, '0'))::uuid $$;

INSERT INTO "AspNetUsers" ("Id", "AccessFailedCount", "ConcurrencyStamp", "CreatedAt", "DisplayName", "Email", "EmailConfirmed", "LockoutEnabled",
    "NormalizedEmail", "NormalizedUserName", "PasswordHash", "PhoneNumberConfirmed", "SecurityStamp", "Status", "TwoFactorEnabled", "UserName")
SELECT pg_temp.gid(1, i), 0, md5(i::text), :now::timestamptz - (i % 400) * interval '1 day', 'Scale User ' || i, 'user' || i || '@scale.test', true, true,
    'USER' || i || '@SCALE.TEST', 'USER' || i || '@SCALE.TEST', (SELECT "PasswordHash" FROM "AspNetUsers" WHERE "NormalizedEmail" = upper(:admin)),
    false, 'S' || md5(i::text), 'Active', false, 'user' || i || '@scale.test'
FROM generate_series(1, :users) i;
INSERT INTO "AspNetUserRoles" ("UserId", "RoleId")
SELECT pg_temp.gid(1, i), (SELECT "Id" FROM "AspNetRoles" WHERE "Name" = 'developer') FROM generate_series(1, :users) i;

INSERT INTO "Accounts" ("Id", "CreatedAt", "Kind", "Name", "Status")
SELECT pg_temp.gid(2, i), :now::timestamptz - (i % 400) * interval '1 day', CASE WHEN i % 10 = 0 THEN 'Team' ELSE 'Person' END, 'Account ' || i, 'Active'
FROM generate_series(1, :accounts) i;
INSERT INTO "AccountMembers" ("AccountId", "UserId")
SELECT pg_temp.gid(2, i), pg_temp.gid(1, (i - 1) % :users + 1) FROM generate_series(1, :accounts) i;

INSERT INTO "Applications" ("Id", "AccountId", "CreatedAt", "Name", "ReferenceId")
SELECT pg_temp.gid(3, i), pg_temp.gid(2, (i - 1) % :accounts + 1), :now::timestamptz - (i % 400) * interval '1 day' - i * interval '1 microsecond',
    'App ' || i, pg_temp.gid(4, i)
FROM generate_series(1, :apps) i;

INSERT INTO "Products" ("Id", "CreatedAt", "Name", "Published", "RequiresApproval", "Slug", "UpdatedAt")
SELECT pg_temp.gid(5, i), :now::timestamptz, 'Scale Product ' || i, true, i % 2 = 1, 'scale-' || i, :now::timestamptz FROM generate_series(1, 4) i;
INSERT INTO "Plans" ("Id", "Name", "Order", "ProductId", "QuotaPeriod", "RateLimitWindow", "Type")
SELECT pg_temp.gid(6, i), 'Free', 0, pg_temp.gid(5, i), 'Month', 'Minute', 'Free' FROM generate_series(1, 4) i;

INSERT INTO "ApiKeys" ("Id", "ApplicationId", "CreatedAt", "ExpiresAt", "Hash", "Last4", "LastUsedAt", "Name", "OwnerUserId", "RevokedAt", "Scopes", "Start")
SELECT pg_temp.gid(7, i), NULL, :now::timestamptz - (i % 700) * interval '12 hours' - i * interval '1 microsecond',
    CASE WHEN i % 20 = 0 THEN :now::timestamptz - interval '1 day' END, lpad(upper(to_hex(i)), 64, '0'), lpad((i % 10000)::text, 4, '0'),
    CASE WHEN i % 3 = 0 THEN :now::timestamptz - i * interval '1 second' END, 'key ' || i, pg_temp.gid(1, (i - 1) % :users + 1),
    CASE WHEN i % 10 = 0 THEN :now::timestamptz - interval '1 day' END, 'read', 'ptl_scale'
FROM generate_series(1, :personal_keys) i;
INSERT INTO "ApiKeys" ("Id", "ApplicationId", "CreatedAt", "Hash", "Last4", "Name", "OwnerUserId", "RevokedAt", "Scopes", "Start")
SELECT pg_temp.gid(8, i), pg_temp.gid(3, (i - 1) % :apps + 1), :now::timestamptz - (i % 700) * interval '12 hours' - i * interval '1 microsecond',
    'A' || lpad(upper(to_hex(i)), 63, '0'), lpad((i % 10000)::text, 4, '0'), 'application key', NULL,
    CASE WHEN i % 10 = 0 THEN :now::timestamptz - interval '1 day' END, 'read', 'ptl_scale'
FROM generate_series(1, :app_keys) i;

INSERT INTO "Subscriptions" ("Id", "AccountId", "ApplicationId", "ApplicationName", "CreatedAt", "PlanId", "ProductId", "Status")
SELECT pg_temp.gid(9, i), pg_temp.gid(2, ((i - 1) % :apps) % :accounts + 1), pg_temp.gid(3, (i - 1) % :apps + 1), 'App ' || ((i - 1) % :apps + 1),
    :now::timestamptz - i * interval '100 seconds', pg_temp.gid(6, i % 4 + 1), pg_temp.gid(5, i % 4 + 1),
    CASE i % 10 WHEN 0 THEN 'Waiting' WHEN 1 THEN 'Rejected' WHEN 2 THEN 'Unsubscribed' ELSE 'Approved' END
FROM generate_series(1, :subscriptions) i;
COMMIT;
ANALYZE;
