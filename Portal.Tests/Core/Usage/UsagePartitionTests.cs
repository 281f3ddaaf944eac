using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

/// <summary>
/// PostgreSQL's usage events partitioned by day (migration <c>UsageEventPartitions</c>, <see cref="UsagePartitions"/>):
/// the migration on an empty and on a filled database, where inserts land, retention by dropping days, the request log
/// over partitions, and maintainers racing. A database of its own per test: the tests change partitions.
/// </summary>
public sealed class UsagePartitionTests : IAsyncLifetime
{
    private const string Migration = "20261207172000_UsageEventPartitions";

    // The test clock's day (TestDatabase starts it at 2026-11-23 09:00 UTC).
    private static readonly DateTimeOffset Day0 = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(provider: DatabaseProvider.PostgreSql);

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Migration_OnAnEmptyDatabase_MakesAPartitionedTable_KeyedByIdAndAt_WithTodayAheadAndADefault()
    {
        await using var db = await _db.OpenAsync();

        Assert.True(await UsagePartitions.AreUsedAsync(db));
        var partitions = await UsagePartitions.ListAsync(db);
        Assert.Contains(UsagePartitions.DefaultPartition, partitions);
        var today = await Scalar<DateTime>(db, "SELECT date_trunc('day', now(), 'UTC') AT TIME ZONE 'UTC'");
        for (var ahead = 0; ahead <= 3; ahead++)
            Assert.Contains(UsagePartitions.NameOf(new DateTimeOffset(today.AddDays(ahead), TimeSpan.Zero)), partitions);
        Assert.Equal("PRIMARY KEY (\"Id\", \"At\")",
            await Scalar<string>(db, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'PK_UsageEvents'"));
        // Every index of the model is on the parent (so on every partition), and EF sees no difference from its model.
        var indexes = await db.Database.SqlQueryRaw<string>(
            "SELECT indexname::text AS \"Value\" FROM pg_indexes WHERE tablename = 'UsageEvents'").ToListAsync();
        foreach (var index in db.Model.FindEntityType(typeof(UsageEvent))!.GetIndexes())
            Assert.Contains(index.GetDatabaseName(), indexes);
        Assert.False(db.Database.HasPendingModelChanges());
    }

    [Fact]
    public async Task Migration_OnADatabaseWithEvents_KeepsEveryRowAndId_AndIdsGoOnAfterThem()
    {
        await using var postgres = await TestPostgres.CreateAsync();
        var options = new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(postgres.ConnectionString).Options;
        await using var db = new PostgresPortalDbContext(options);
        var migrations = db.Database.GetMigrations().ToList();
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(migrations[migrations.IndexOf(Migration) - 1]);
        Assert.False(await UsagePartitions.AreUsedAsync(db));
        var today = await Scalar<DateTime>(db, "SELECT date_trunc('day', now(), 'UTC') AT TIME ZONE 'UTC'");
        // Three recent days, one long past (beyond the 400 days given partitions) and one far ahead.
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO "UsageEvents" ("At", "KeyId", "Method", "Route", "Status", "LatencyMs")
            SELECT @p0 - i * interval '1 hour', gen_random_uuid(), 'GET', '/api/v1/me', 200 + i % 2, i FROM generate_series(1, 72) i;
            INSERT INTO "UsageEvents" ("At", "Method", "Route", "Status", "LatencyMs") VALUES ('1990-01-01T00:00:00Z', 'GET', '/past', 200, 0),
                ('2200-01-01T00:00:00Z', 'GET', '/future', 200, 0), (@p0, 'GET', '/gone', 200, 0);
            DELETE FROM "UsageEvents" WHERE "Route" = '/gone';
            """, new NpgsqlParameter("p0", today));
        var before = await Rows(db);

        await migrator.MigrateAsync();

        Assert.True(await UsagePartitions.AreUsedAsync(db));
        Assert.Equal(before, await Rows(db));
        Assert.Equal(UsagePartitions.DefaultPartition, await PartitionOf(db, "/past"));
        Assert.Equal(UsagePartitions.DefaultPartition, await PartitionOf(db, "/future"));
        var partitions = await UsagePartitions.ListAsync(db);
        foreach (var day in new[] { -1, -2, -3 })
            Assert.Contains(UsagePartitions.NameOf(new DateTimeOffset(today.AddDays(day), TimeSpan.Zero)), partitions);
        // The identity goes on after the last id handed out before (the last row's, deleted), and EF inserts through it.
        db.UsageEvents.Add(new UsageEvent { At = new DateTimeOffset(today, TimeSpan.Zero).AddMinutes(5), Method = "GET", Route = "/new", Status = 200 });
        await db.SaveChangesAsync();
        Assert.Equal(before.Max(r => r.Id) + 2, await db.UsageEvents.Where(e => e.Route == "/new").Select(e => e.Id).SingleAsync());

        // And back: Down makes the plain table again, rows kept.
        await migrator.MigrateAsync(migrations[migrations.IndexOf(Migration) - 1]);
        Assert.False(await UsagePartitions.AreUsedAsync(db));
        Assert.Equal(before.Count + 1, await db.UsageEvents.CountAsync());
        await using (var clear = new NpgsqlConnection(postgres.ConnectionString)) NpgsqlConnection.ClearPool(clear);
    }

    [Fact]
    public async Task Inserts_AtTheEdgesOfADay_LandInThatDay_AndFarAwayInTheDefault()
    {
        Assert.Equal(UsagePartitions.DaysAhead + 1, await _db.Get<UsageWriter>().EnsurePartitionsAsync());
        var recorder = _db.Get<UsageRecorder>();
        foreach (var (at, route) in new[]
                 {
                     (Day0, "/start"), (Day0.AddDays(1).AddTicks(-10), "/end"), (Day0.AddDays(1), "/next"),
                     (Day0.AddDays(UsagePartitions.DaysAhead + 1), "/beyond"), (new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero), "/past"),
                     (new DateTimeOffset(2200, 1, 1, 0, 0, 0, TimeSpan.Zero), "/future"),
                 })
            recorder.Record(new UsageRecord(at, Guid.NewGuid(), null, "GET", route, 200, 1));

        await _db.Get<UsageWriter>().DrainAsync();

        await using var db = await _db.OpenAsync();
        Assert.Equal("UsageEvents_20261123", await PartitionOf(db, "/start"));
        Assert.Equal("UsageEvents_20261123", await PartitionOf(db, "/end"));
        Assert.Equal("UsageEvents_20261124", await PartitionOf(db, "/next"));
        Assert.Equal(UsagePartitions.DefaultPartition, await PartitionOf(db, "/beyond"));
        Assert.Equal(UsagePartitions.DefaultPartition, await PartitionOf(db, "/past"));
        Assert.Equal(UsagePartitions.DefaultPartition, await PartitionOf(db, "/future"));

        // Once that day comes within reach, its partition is made and its events move there from the default.
        _db.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(2, await _db.Get<UsageWriter>().EnsurePartitionsAsync());
        Assert.Equal(UsagePartitions.NameOf(Day0.AddDays(UsagePartitions.DaysAhead + 1)), await PartitionOf(db, "/beyond"));
        Assert.Equal(6, await db.UsageEvents.CountAsync());
        Assert.Equal(0, await _db.Get<UsageWriter>().EnsurePartitionsAsync());
    }

    [Fact]
    public async Task Purge_DropsTheDaysPastRetention_AndDeletesTheBoundaryDaysExpiredRowsInSlices()
    {
        await _db.Get<UsageWriter>().EnsurePartitionsAsync();
        var recorder = _db.Get<UsageRecorder>();
        for (var hour = 0; hour < 8 * 24; hour++)
            recorder.Record(new UsageRecord(Day0.AddHours(hour), Guid.NewGuid(), null, "GET", "/api/v1/me", 200, 1));
        recorder.Record(new UsageRecord(new DateTimeOffset(1990, 1, 1, 0, 0, 0, TimeSpan.Zero), null, null, "GET", "/past", 200, 1));
        await _db.Get<UsageWriter>().DrainAsync();
        var rollups = await RollupCallsAsync();

        // 30 days of retention: the cutoff is 26 November, 12:00.
        _db.Clock.SetUtcNow(Day0.AddDays(33).AddHours(12));
        await using var db = await _db.OpenAsync();
        var (dropped, deleted) = await UsagePartitions.PurgeAsync(db, _db.Clock.GetUtcNow().AddDays(-30), slice: 5, NullLogger.Instance);

        Assert.Equal(3, dropped);
        Assert.Equal(12 + 1, deleted);
        var partitions = await UsagePartitions.ListAsync(db);
        Assert.DoesNotContain("UsageEvents_20261123", partitions);
        Assert.DoesNotContain("UsageEvents_20261125", partitions);
        Assert.Contains("UsageEvents_20261126", partitions);
        Assert.Equal(0, await Scalar<long>(db, "SELECT count(*) FROM pg_class WHERE relname = 'UsageEvents_20261124'"));
        var cutoff = Day0.AddDays(3).AddHours(12);
        Assert.Equal(8 * 24 - 3 * 24 - 12, await db.UsageEvents.CountAsync());
        Assert.Equal(cutoff, await db.UsageEvents.MinAsync(e => e.At));
        // Rollups are separate tables: retention leaves them whole.
        Assert.Equal(rollups, await RollupCallsAsync());

        // Again, through the writer as the host runs it: nothing left to drop or delete.
        Assert.Equal(0, await _db.Get<UsageWriter>().PurgeAsync());
        Assert.Equal(8 * 24 - 3 * 24 - 12, await db.UsageEvents.CountAsync());
    }

    [Fact]
    public async Task RequestLog_PagesByCursorAcrossDaysAndTheDefault_AndFindsEachEventById()
    {
        var root = await _db.RootAsync();
        await _db.Get<UsageWriter>().EnsurePartitionsAsync();
        var recorder = _db.Get<UsageRecorder>();
        var key = Guid.NewGuid();
        // Three days, two events at each instant (ties broken by id), and two in the default partition.
        for (var i = 0; i < 60; i++)
        {
            var at = Day0.AddHours(i * 1.2);
            recorder.Record(new UsageRecord(at, key, null, "GET", "/api/v1/me", i % 7 == 0 ? 500 : 200, 1));
            recorder.Record(new UsageRecord(at, key, null, "GET", "/api/v1/me", 200, 2));
        }
        recorder.Record(new UsageRecord(Day0.AddDays(-400), key, null, "GET", "/api/v1/me", 500, 3));
        recorder.Record(new UsageRecord(Day0.AddDays(400), key, null, "GET", "/api/v1/me", 200, 3));
        await _db.Get<UsageWriter>().DrainAsync();
        var usage = _db.Get<UsageService>();

        foreach (var query in new[] { new UsageRequestQuery { PageSize = 7 }, new UsageRequestQuery { PageSize = 5, Status = "5xx" },
                     new UsageRequestQuery { PageSize = 9, KeyId = key, From = Day0.AddHours(20), To = Day0.AddDays(2) } })
        {
            var seen = new List<UsageRequestDto>();
            string? cursor = null;
            do
            {
                var page = (await usage.ListRequestsAsync(root, query with { Cursor = cursor })).Value;
                seen.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);

            await using var db = await _db.OpenAsync();
            var expected = await Filter(db.UsageEvents, query).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Select(e => e.Id).ToListAsync();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, seen.Select(r => r.Id));
        }

        await using (var db = await _db.OpenAsync())
        {
            foreach (var id in await db.UsageEvents.Where(e => e.LatencyMs == 3 || e.At == Day0.AddHours(30)).Select(e => e.Id).ToListAsync())
                Assert.Equal(id, (await usage.GetRequestAsync(root, id)).Value.Id);
        }
        Assert.IsType<NotFoundError>((await usage.GetRequestAsync(root, long.MaxValue)).Error);

        static IQueryable<UsageEvent> Filter(IQueryable<UsageEvent> events, UsageRequestQuery query)
        {
            if (query.Status == "5xx") events = events.Where(e => e.Status >= 500);
            if (query.KeyId is { } k) events = events.Where(e => e.KeyId == k);
            if (query.From is { } from) events = events.Where(e => e.At >= from);
            if (query.To is { } to) events = events.Where(e => e.At < to);
            return events;
        }
    }

    [Fact]
    public async Task TwoMaintainersAtOnce_WhileEventsArrive_BothSucceed_AndMakeEachDayOnce()
    {
        var options = new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(_db.ConnectionString).Options;
        var recorder = _db.Get<UsageRecorder>();
        for (var i = 0; i < 2_000; i++)
            recorder.Record(new UsageRecord(Day0.AddDays(i % 12).AddMinutes(i), Guid.NewGuid(), null, "GET", "/api/v1/me", 200, 1));
        var writing = _db.Get<UsageWriter>().DrainAsync();

        var made = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var db = new PostgresPortalDbContext(options);
            return await UsagePartitions.EnsureAsync(db, _db.Clock.GetUtcNow(), NullLogger.Instance);
        }));
        await writing;

        Assert.Equal(UsagePartitions.DaysAhead + 1, made.Sum());
        await using var check = await _db.OpenAsync();
        var partitions = await UsagePartitions.ListAsync(check);
        for (var day = 0; day <= UsagePartitions.DaysAhead; day++) Assert.Single(partitions, UsagePartitions.NameOf(Day0.AddDays(day)));
        Assert.Equal(2_000, await check.UsageEvents.CountAsync());

        // Two purges at once: one drops, the other finds nothing left; neither fails.
        _db.Clock.Advance(TimeSpan.FromDays(33));
        var cutoff = _db.Clock.GetUtcNow().AddDays(-30);
        var kept = await check.UsageEvents.CountAsync(e => e.At >= cutoff);
        var purged = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var db = new PostgresPortalDbContext(options);
            return await UsagePartitions.PurgeAsync(db, cutoff, 100, NullLogger.Instance);
        }));
        Assert.Equal(3, purged.Sum(p => p.Dropped));
        Assert.Equal(kept, await check.UsageEvents.CountAsync());
    }

    private async Task<long> RollupCallsAsync()
    {
        await using var db = await _db.OpenAsync();
        return await db.UsageHours.SumAsync(h => h.Calls) + await db.UsageRollups.SumAsync(r => r.Count) + await db.UsageKeyDays.SumAsync(d => d.Calls);
    }

    private static async Task<List<(long Id, DateTimeOffset At, string Route, int Status)>> Rows(PortalDbContext db) =>
        [.. (await db.UsageEvents.OrderBy(e => e.Id).Select(e => new { e.Id, e.At, e.Route, e.Status }).ToListAsync()).Select(e => (e.Id, e.At, e.Route, e.Status))];

    private static async Task<string> PartitionOf(PortalDbContext db, string route) =>
        (await db.Database.SqlQueryRaw<string>("SELECT tableoid::regclass::text AS \"Value\" FROM \"UsageEvents\" WHERE \"Route\" = @p0",
            new NpgsqlParameter("p0", route)).SingleAsync()).Trim('"');

    private static async Task<T> Scalar<T>(PortalDbContext db, string sql)
    {
        var query = "SELECT (" + sql + ") AS \"Value\"";
        return await db.Database.SqlQueryRaw<T>(query).SingleAsync();
    }
}
