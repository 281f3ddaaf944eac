-- The hourly rollups from the raw events in one INSERT … SELECT … GROUP BY: the one step to change when the rollup
-- tables change.
\set ON_ERROR_STOP 1
BEGIN;
DELETE FROM "UsageRollups";
INSERT INTO "UsageRollups" ("KeyId", "HourStart", "Count", "Errors")
SELECT "KeyId", date_trunc('hour', "At", 'UTC'), count(*), count(*) FILTER (WHERE "Status" >= 400)
FROM "UsageEvents" WHERE "KeyId" IS NOT NULL GROUP BY "KeyId", date_trunc('hour', "At", 'UTC');
COMMIT;
ANALYZE "UsageRollups";
