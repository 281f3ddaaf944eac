using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <summary>
    /// PostgreSQL only (the model does not change): <c>UsageEvents</c> becomes a table partitioned by range of
    /// <c>At</c>, one partition per UTC day named <c>UsageEvents_yyyyMMdd</c> and a <c>UsageEvents_default</c>
    /// partition for any time outside them, so that retention drops whole days instead of deleting rows
    /// (<see cref="Portal.Core.Features.Usage.UsagePartitions"/> creates the days ahead and drops the old ones).
    /// The table is rebuilt: the old one is renamed, a partitioned one is made with the same columns (whatever
    /// migrations have added by now), partitions for every day that holds events (up to 400 days back) and for today
    /// and the next three days, the rows copied (ids kept, the identity continues after them), then the primary key and
    /// every index the old table had are made on the parent (one build per partition). A partitioned table's primary
    /// key must hold the partition column: it is <c>(Id, At)</c> here while EF's model keeps <c>Id</c> alone as the
    /// key, which it stays (ids come from one identity).
    /// </summary>
    public partial class UsageEventPartitions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DO $$
                DECLARE
                    indexes text[];
                    definition text;
                    today timestamptz := date_trunc('day', now(), 'UTC');
                    day timestamptz;
                    last_id bigint;
                BEGIN
                    SELECT coalesce(array_agg(indexdef ORDER BY indexname), '{}') INTO indexes FROM pg_indexes
                    WHERE schemaname = current_schema() AND tablename = 'UsageEvents' AND indexname <> 'PK_UsageEvents';
                    ALTER TABLE "UsageEvents" RENAME TO "UsageEvents_unpartitioned";
                    CREATE TABLE "UsageEvents" (LIKE "UsageEvents_unpartitioned" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS)
                        PARTITION BY RANGE ("At");
                    CREATE TABLE "UsageEvents_default" PARTITION OF "UsageEvents" DEFAULT;

                    -- The days that hold events, one index seek each; '24 hours', not '1 day', whatever the session's time zone.
                    day := (SELECT date_trunc('day', min("At"), 'UTC') FROM "UsageEvents_unpartitioned");
                    WHILE day IS NOT NULL LOOP
                        IF day >= today - interval '400 days' AND day < today THEN
                            EXECUTE format('CREATE TABLE %I PARTITION OF "UsageEvents" FOR VALUES FROM (%L) TO (%L)',
                                'UsageEvents_' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'), day, day + interval '24 hours');
                        END IF;
                        day := (SELECT date_trunc('day', min("At"), 'UTC') FROM "UsageEvents_unpartitioned" WHERE "At" >= day + interval '24 hours');
                    END LOOP;
                    FOR ahead IN 0..3 LOOP
                        day := today + ahead * interval '24 hours';
                        EXECUTE format('CREATE TABLE %I PARTITION OF "UsageEvents" FOR VALUES FROM (%L) TO (%L)',
                            'UsageEvents_' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'), day, day + interval '24 hours');
                    END LOOP;

                    INSERT INTO "UsageEvents" SELECT * FROM "UsageEvents_unpartitioned";
                    last_id := greatest(pg_sequence_last_value(pg_get_serial_sequence('"UsageEvents_unpartitioned"', 'Id')::regclass),
                        (SELECT max("Id") FROM "UsageEvents_unpartitioned"));
                    IF last_id IS NOT NULL THEN
                        PERFORM setval(pg_get_serial_sequence('"UsageEvents"', 'Id'), last_id);
                    END IF;
                    DROP TABLE "UsageEvents_unpartitioned";
                    EXECUTE format('ALTER SEQUENCE %s RENAME TO "UsageEvents_Id_seq"', pg_get_serial_sequence('"UsageEvents"', 'Id'));

                    ALTER TABLE "UsageEvents" ADD CONSTRAINT "PK_UsageEvents" PRIMARY KEY ("Id", "At");
                    FOREACH definition IN ARRAY indexes LOOP
                        EXECUTE definition;
                    END LOOP;
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DO $$
                DECLARE
                    indexes text[];
                    definition text;
                    last_id bigint;
                BEGIN
                    SELECT coalesce(array_agg(replace(indexdef, ' ON ONLY ', ' ON ') ORDER BY indexname), '{}') INTO indexes FROM pg_indexes
                    WHERE schemaname = current_schema() AND tablename = 'UsageEvents' AND indexname <> 'PK_UsageEvents';
                    ALTER TABLE "UsageEvents" RENAME TO "UsageEvents_partitioned";
                    CREATE TABLE "UsageEvents" (LIKE "UsageEvents_partitioned" INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS);
                    INSERT INTO "UsageEvents" SELECT * FROM "UsageEvents_partitioned";
                    last_id := greatest(pg_sequence_last_value(pg_get_serial_sequence('"UsageEvents_partitioned"', 'Id')::regclass),
                        (SELECT max("Id") FROM "UsageEvents_partitioned"));
                    IF last_id IS NOT NULL THEN
                        PERFORM setval(pg_get_serial_sequence('"UsageEvents"', 'Id'), last_id);
                    END IF;
                    DROP TABLE "UsageEvents_partitioned";
                    EXECUTE format('ALTER SEQUENCE %s RENAME TO "UsageEvents_Id_seq"', pg_get_serial_sequence('"UsageEvents"', 'Id'));
                    ALTER TABLE "UsageEvents" ADD CONSTRAINT "PK_UsageEvents" PRIMARY KEY ("Id");
                    FOREACH definition IN ARRAY indexes LOOP
                        EXECUTE definition;
                    END LOOP;
                END $$;
                """);
        }
    }
}
