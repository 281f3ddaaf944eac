-- The hourly rollups from the raw events, in one INSERT … SELECT … GROUP BY: the one step to change when the
-- rollup tables change.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
BEGIN;
DELETE FROM UsageRollups;
INSERT INTO UsageRollups (KeyId, HourStart, Count, Errors)
SELECT KeyId, At - At % 36000000000, count(*), sum(Status >= 400) FROM UsageEvents WHERE KeyId IS NOT NULL GROUP BY KeyId, At - At % 36000000000;
COMMIT;
