-- @events usage events evenly over the 30 days before @now, newest last (as the writer appends them). Seven in ten
-- are calls with a personal key over twenty routes, three in ten key verifications of an application key for one
-- of the four products. Statuses: 90% 200, then 404, 401, 500, 429, 403, 201. Keys: flat (each key about as many
-- calls as any other), or with @skew = 1 skewed (a key's index squared: key n gets calls in proportion to 1/sqrt(n)).
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
BEGIN;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < @events),
e AS (SELECT i, (i * 2654435761) % 1000003 AS h FROM c),
x AS (SELECT i, h, (h * 7 + i) % @personal_keys AS px, (h * 13 + i) % @app_keys AS ax FROM e),
r AS (SELECT i, h, h % 10 < 7 AS personal,
    CASE WHEN @skew THEN px * px / @personal_keys ELSE px END + 1 AS pk,
    CASE WHEN @skew THEN ax * ax / @app_keys ELSE ax END + 1 AS ak, h % 100 AS s FROM x)
INSERT INTO UsageEvents (At, KeyId, OwnerUserId, ApplicationId, Method, Route, Status, LatencyMs, ProductId, PlanId, Outcome)
SELECT @now - 25920000000000 + i * (25920000000000 / @events),
    CASE WHEN personal THEN printf('00000007-0000-4000-8000-%012X', pk) ELSE printf('00000008-0000-4000-8000-%012X', ak) END,
    CASE WHEN personal THEN printf('00000001-0000-4000-8000-%012X', (pk - 1) % @users + 1) END,
    CASE WHEN personal THEN NULL ELSE printf('00000003-0000-4000-8000-%012X', (ak - 1) % @apps + 1) END,
    CASE WHEN personal AND h % 5 = 0 THEN 'POST' WHEN personal THEN 'GET' ELSE 'POST' END,
    CASE WHEN personal THEN CASE (h / 100) % 20
        WHEN 0 THEN '/api/v1/me' WHEN 1 THEN '/api/v1/me/profile' WHEN 2 THEN '/api/v1/api-keys' WHEN 3 THEN '/api/v1/api-keys/{id:guid}'
        WHEN 4 THEN '/api/v1/applications' WHEN 5 THEN '/api/v1/applications/{id:guid}' WHEN 6 THEN '/api/v1/applications/{id:guid}/keys'
        WHEN 7 THEN '/api/v1/products' WHEN 8 THEN '/api/v1/products/{idOrSlug}' WHEN 9 THEN '/api/v1/subscriptions'
        WHEN 10 THEN '/api/v1/subscriptions/{id:guid}' WHEN 11 THEN '/api/v1/usage/summary' WHEN 12 THEN '/api/v1/usage/requests'
        WHEN 13 THEN '/api/v1/users' WHEN 14 THEN '/api/v1/users/{id:guid}' WHEN 15 THEN '/api/v1/accounts' WHEN 16 THEN '/api/v1/audit'
        WHEN 17 THEN '/api/v1/webhooks' WHEN 18 THEN '/api/v1/organisation' ELSE '/api/v1/subscriptions/{id:guid}/usage' END
        ELSE '/api/v1/verify' END,
    CASE WHEN s < 90 THEN 200 WHEN s < 94 THEN 404 WHEN s < 96 THEN 401 WHEN s < 97 THEN 500 WHEN s < 98 THEN 429 WHEN s < 99 THEN 403 ELSE 201 END,
    h % 300,
    CASE WHEN personal THEN NULL ELSE printf('00000005-0000-4000-8000-%012X', ak % 4 + 1) END,
    CASE WHEN personal THEN NULL ELSE printf('00000006-0000-4000-8000-%012X', ak % 4 + 1) END,
    CASE WHEN personal THEN NULL WHEN s < 90 THEN 'VALID' WHEN s < 94 THEN 'NOT_SUBSCRIBED' WHEN s < 96 THEN 'NOT_FOUND' WHEN s < 98 THEN 'RATE_LIMITED' ELSE 'REVOKED' END
FROM r;
COMMIT;
