-- :events usage events over the 30 days before :now, as sqlite/events.sql (the same mix; :skew 1 for skewed keys), straight into the partitioned
-- table: first a partition per UTC day of the 30 (as UsagePartitions names them; the app makes the days ahead when it
-- starts), so no event goes to the default partition. The table's indexes but the primary key are dropped while it
-- fills and made again after (on the parent: one build per partition).
\set ON_ERROR_STOP 1
CREATE FUNCTION pg_temp.gid(kind int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
$$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-4000-8000-' || lpad(upper(to_hex(n)), 12, '0'))::uuid $$;
SELECT format('CREATE TABLE IF NOT EXISTS %I PARTITION OF "UsageEvents" FOR VALUES FROM (%L) TO (%L)',
    'UsageEvents_' || to_char(d AT TIME ZONE 'UTC', 'YYYYMMDD'), d, d + interval '24 hours')
FROM generate_series(date_trunc('day', :now::timestamptz - interval '30 days', 'UTC'), :now::timestamptz, interval '24 hours') d \gexec
-- A partitioned table's index definitions read "ON ONLY", which would make the parent's index alone.
CREATE TEMP TABLE usage_indexes AS
    SELECT indexname, replace(indexdef, ' ON ONLY ', ' ON ') AS indexdef FROM pg_indexes
    WHERE tablename = 'UsageEvents' AND indexname <> 'PK_UsageEvents';
SELECT format('DROP INDEX %I', indexname) FROM usage_indexes \gexec
BEGIN;
INSERT INTO "UsageEvents" ("At", "KeyId", "OwnerUserId", "ApplicationId", "Method", "Route", "Status", "LatencyMs", "ProductId", "PlanId", "Outcome")
SELECT :now::timestamptz - interval '30 days' + i * (interval '30 days' / :events),
    CASE WHEN personal THEN pg_temp.gid(7, pk) ELSE pg_temp.gid(8, ak) END,
    CASE WHEN personal THEN pg_temp.gid(1, (pk - 1) % :users + 1) END,
    CASE WHEN personal THEN NULL ELSE pg_temp.gid(3, (ak - 1) % :apps + 1) END,
    CASE WHEN personal AND h % 5 = 0 THEN 'POST' WHEN personal THEN 'GET' ELSE 'POST' END,
    CASE WHEN personal THEN (ARRAY['/api/v1/me', '/api/v1/me/profile', '/api/v1/api-keys', '/api/v1/api-keys/{id:guid}', '/api/v1/applications',
        '/api/v1/applications/{id:guid}', '/api/v1/applications/{id:guid}/keys', '/api/v1/products', '/api/v1/products/{idOrSlug}', '/api/v1/subscriptions',
        '/api/v1/subscriptions/{id:guid}', '/api/v1/usage/summary', '/api/v1/usage/requests', '/api/v1/users', '/api/v1/users/{id:guid}', '/api/v1/accounts',
        '/api/v1/audit', '/api/v1/webhooks', '/api/v1/organisation', '/api/v1/subscriptions/{id:guid}/usage'])[(h / 100) % 20 + 1]
        ELSE '/api/v1/verify' END,
    CASE WHEN s < 90 THEN 200 WHEN s < 94 THEN 404 WHEN s < 96 THEN 401 WHEN s < 97 THEN 500 WHEN s < 98 THEN 429 WHEN s < 99 THEN 403 ELSE 201 END,
    h % 300,
    CASE WHEN personal THEN NULL ELSE pg_temp.gid(5, ak % 4 + 1) END,
    CASE WHEN personal THEN NULL ELSE pg_temp.gid(6, ak % 4 + 1) END,
    CASE WHEN personal THEN NULL WHEN s < 90 THEN 'VALID' WHEN s < 94 THEN 'NOT_SUBSCRIBED' WHEN s < 96 THEN 'NOT_FOUND' WHEN s < 98 THEN 'RATE_LIMITED' ELSE 'REVOKED' END
FROM (SELECT i, h, h % 10 < 7 AS personal,
          CASE WHEN :skew = 1 THEN px * px / :personal_keys ELSE px END + 1 AS pk,
          CASE WHEN :skew = 1 THEN ax * ax / :app_keys ELSE ax END + 1 AS ak, h % 100 AS s
      FROM (SELECT i, h, (h * 7 + i) % :personal_keys AS px, (h * 13 + i) % :app_keys AS ax
            FROM (SELECT i, (i * 2654435761) % 1000003 AS h FROM generate_series(1::bigint, :events) i) e) x) r;
COMMIT;
SET maintenance_work_mem = '1GB';
SELECT indexdef FROM usage_indexes \gexec
ANALYZE "UsageEvents";
