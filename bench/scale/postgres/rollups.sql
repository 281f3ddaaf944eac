-- Every rollup table the app reads, from the raw events, with the rules of UsageRollupWriter (docs/usage-rollups.md):
-- calls and errors count the events with a key; an application's calls those with a key and an application;
-- verifications (an outcome) count per code, per key/product/code (no key or product: the empty GUID) and per product.
-- First one tally per hour, key, application, product and code (one pass over the events), then each table from it:
-- the one step to change when the rollup tables change.
\set ON_ERROR_STOP 1
SET work_mem = '512MB';
BEGIN;
TRUNCATE "UsageRollups", "UsageHours", "UsageOutcomeHours", "UsageKeyDays", "UsageApplicationRollups", "UsageProductRollups",
    "UsageVerificationHours";
CREATE TEMP TABLE tally AS
SELECT date_trunc('hour', "At", 'UTC') AS h, "KeyId" AS k, "ApplicationId" AS a, "ProductId" AS p, "Outcome" AS o,
    count(*) AS n, count(*) FILTER (WHERE "Status" >= 400) AS e
FROM "UsageEvents" GROUP BY 1, 2, 3, 4, 5;

INSERT INTO "UsageRollups" ("KeyId", "HourStart", "Count", "Errors")
SELECT k, h, sum(n), sum(e) FROM tally WHERE k IS NOT NULL GROUP BY k, h;
INSERT INTO "UsageHours" ("HourStart", "Calls", "Errors", "PersonalCalls")
SELECT h, sum(n), sum(e), coalesce(sum(n) FILTER (WHERE a IS NULL), 0) FROM tally WHERE k IS NOT NULL GROUP BY h;
INSERT INTO "UsageKeyDays" ("KeyId", "Day", "Calls", "Errors")
SELECT k, date_trunc('day', h, 'UTC'), sum(n), sum(e) FROM tally WHERE k IS NOT NULL GROUP BY 1, 2;
INSERT INTO "UsageApplicationRollups" ("ApplicationId", "Span", "Start", "Calls", "Errors")
SELECT a, 1, h, sum(n), sum(e) FROM tally WHERE k IS NOT NULL AND a IS NOT NULL GROUP BY a, h;
INSERT INTO "UsageApplicationRollups" ("ApplicationId", "Span", "Start", "Calls", "Errors")
SELECT a, 24, date_trunc('day', h, 'UTC'), sum(n), sum(e) FROM tally WHERE k IS NOT NULL AND a IS NOT NULL GROUP BY 1, 3;
INSERT INTO "UsageOutcomeHours" ("HourStart", "Outcome", "Count")
SELECT h, o, sum(n) FROM tally WHERE o IS NOT NULL GROUP BY h, o;
INSERT INTO "UsageVerificationHours" ("KeyId", "HourStart", "ProductId", "Outcome", "Count")
SELECT coalesce(k, '00000000-0000-0000-0000-000000000000'), h, coalesce(p, '00000000-0000-0000-0000-000000000000'), o, sum(n)
FROM tally WHERE o IS NOT NULL GROUP BY 1, 2, 3, 4;
INSERT INTO "UsageProductRollups" ("ProductId", "Span", "Start", "Calls")
SELECT p, 1, h, sum(n) FROM tally WHERE o IS NOT NULL AND p IS NOT NULL GROUP BY p, h;
INSERT INTO "UsageProductRollups" ("ProductId", "Span", "Start", "Calls")
SELECT p, 24, date_trunc('day', h, 'UTC'), sum(n) FROM tally WHERE o IS NOT NULL AND p IS NOT NULL GROUP BY 1, 3;
DROP TABLE tally;
COMMIT;
ANALYZE "UsageRollups", "UsageHours", "UsageOutcomeHours", "UsageKeyDays", "UsageApplicationRollups", "UsageProductRollups",
    "UsageVerificationHours";
