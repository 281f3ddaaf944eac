using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

/// <summary>The rollups on SQLite: one writer, as SQLite has one writer at a time.</summary>
public sealed class UsageRollupSqliteTests() : UsageRollupTests(DatabaseProvider.Sqlite)
{
    [Fact]
    public async Task OneWriter_ManyBatches_RollupsEqualTheEvents() => await WritersAddUpExactlyAsync(writers: 1);
}

/// <summary>The rollups on PostgreSQL, where several instances write into one database at once.</summary>
public sealed class UsageRollupPostgresTests() : UsageRollupTests(DatabaseProvider.PostgreSql)
{
    [Fact]
    public async Task TwoWriters_OverlappingKeysAndHours_RollupsEqualTheEvents() => await WritersAddUpExactlyAsync(writers: 2);
}

/// <summary>
/// The rollups the usage writer keeps, checked against the raw events they summarise: under concurrent writers, on rows
/// that exist already, and through every figure of the usage overview.
/// </summary>
public abstract class UsageRollupTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(provider: provider);

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static readonly string[] Codes = ["VALID", "VALID", "VALID", "RATE_LIMITED", "NOT_SUBSCRIBED"];

    /// <summary>A writer of its own, as another instance of the portal runs one: its own queue, the same database.</summary>
    private (UsageRecorder Recorder, UsageWriter Writer) NewInstance()
    {
        var recorder = new UsageRecorder();
        return (recorder, new UsageWriter(recorder, _db.Get<IDbContextFactory<PortalDbContext>>(), _db.Get<IOptions<PortalOptions>>(),
            _db.Get<TimeProvider>(), NullLogger<UsageWriter>.Instance));
    }

    /// <summary>
    /// Random calls over a few keys (personal and of applications), hours, products and codes, and verifications of no
    /// key at all: each writer drains its own share in several batches while the others drain theirs.
    /// </summary>
    protected async Task WritersAddUpExactlyAsync(int writers)
    {
        var random = new Random(7);
        var now = _db.Clock.GetUtcNow();
        var apps = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        var keys = Enumerable.Range(0, 12).Select(i => (Id: Guid.NewGuid(), App: i < 8 ? apps[i % apps.Length] : (Guid?)null)).ToArray();
        var products = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        var instances = Enumerable.Range(0, writers).Select(_ => NewInstance()).ToList();
        var all = new List<UsageRecord>();
        for (var i = 0; i < 24_000 * writers; i++)
        {
            var at = now.AddMinutes(-random.Next(0, 60 * 30));
            UsageRecord record;
            if (random.Next(10) == 0)
                record = new UsageRecord(at, null, null, "POST", "/api/v1/keys/verify", 200, 1, null, products[random.Next(products.Length)], null, "NOT_FOUND");
            else
            {
                var key = keys[random.Next(keys.Length)];
                record = key.App is { } app && random.Next(2) == 0
                    ? new UsageRecord(at, key.Id, null, "POST", "/api/v1/keys/verify", 200, 1, app,
                        random.Next(5) == 0 ? null : products[random.Next(products.Length)], null, Codes[random.Next(Codes.Length)])
                    : new UsageRecord(at, key.Id, key.App is null ? Guid.NewGuid() : null, "GET", "/api/v1/me", random.Next(5) == 0 ? 500 : 200, 1, key.App);
            }
            all.Add(record);
            instances[i % writers].Recorder.Record(record);
        }

        // Each drain takes 10,000 at a time: the writers' batches interleave on the same rows.
        await Task.WhenAll(instances.Select(instance => Task.Run(() => instance.Writer.DrainAsync())));

        await AssertRollupsEqualAsync(all);
    }

    [Fact]
    public async Task ABatchMeetingExistingRollups_IsAddedToThem_NotDropped()
    {
        var hour = UsageWriter.HourOf(_db.Clock.GetUtcNow());
        var (key, app, product) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var earlier = new List<UsageRecord>
        {
            new(hour.AddMinutes(1), key, null, "POST", "/api/v1/keys/verify", 200, 1, app, product, null, "VALID"),
            new(hour.AddMinutes(2), key, null, "GET", "/api/v1/me", 404, 1, app),
        };
        await using (var db = await _db.OpenAsync())
            await UsageRollupWriter.AddAsync(db, UsageTally.Of(earlier));

        var recorder = _db.Get<UsageRecorder>();
        var batch = new List<UsageRecord>
        {
            new(hour.AddMinutes(3), key, null, "POST", "/api/v1/keys/verify", 200, 1, app, product, null, "VALID"),
            new(hour.AddMinutes(4), key, null, "GET", "/api/v1/me", 200, 1, app),
            new(hour.AddMinutes(5), key, null, "GET", "/api/v1/me", 500, 1, app),
        };
        foreach (var r in batch) recorder.Record(r);
        await _db.Get<UsageWriter>().DrainAsync();

        await using var check = await _db.OpenAsync();
        Assert.Equal(3, await check.UsageEvents.CountAsync());
        var rollup = await check.UsageRollups.SingleAsync();
        Assert.Equal((5L, 2L), (rollup.Count, rollup.Errors));
        Assert.Equal(5, (await check.UsageHours.SingleAsync()).Calls);
        Assert.Equal(2, (await check.UsageOutcomeHours.SingleAsync()).Count);
        Assert.Equal([5L, 5L], await check.UsageApplicationRollups.OrderBy(r => r.Span).Select(r => r.Calls).ToListAsync());
        await AssertRollupsEqualAsync([.. earlier, .. batch], events: batch.Count);
    }

    [Fact]
    public async Task Summary_FromRollups_EqualsWhatTheRawEventsSay_DailyAndHourly()
    {
        var admin = await _db.RootAsync();
        var now = _db.Clock.GetUtcNow();
        var today = UsageBuckets.Align(now, TimeSpan.FromDays(1));
        var records = new List<UsageRecord>();
        void Calls(Guid key, Guid? app, DateTimeOffset at, int count, int errors = 0)
        {
            for (var i = 0; i < count; i++)
                records.Add(new UsageRecord(at.AddSeconds(i % 3000), key, app is null ? key : null, "GET", "/api/v1/me", i < errors ? 500 : 200, 1, app));
        }
        // Each of three days, eleven keys of a day make 100 calls; one steady key makes 90 every day. The steady key is
        // in no day's top ten, yet first over the three days: the top list must widen its per-day candidates to see it.
        var steady = Guid.NewGuid();
        for (var d = 0; d < 3; d++)
        {
            var day = today.AddDays(-d);
            for (var k = 0; k < 11; k++) Calls(Guid.NewGuid(), null, day.AddHours(k % 8), 100, errors: k);
            Calls(steady, null, day.AddHours(1), 90, errors: 1);
        }
        // Application keys, verifications per product and code, and a verification of an unknown key.
        var (appA, appB, keyA, keyB) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var products = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToArray();
        Calls(keyA, appA, today.AddHours(2), 40, errors: 4);
        Calls(keyB, appB, today.AddDays(-1).AddHours(5), 60);
        for (var p = 0; p < products.Length; p++)
            for (var i = 0; i < 5 + p; i++)
                records.Add(new UsageRecord(today.AddHours(p % 9).AddMinutes(i), i % 2 == 0 ? keyA : keyB, null, "POST", "/api/v1/keys/verify", 200, 1,
                    i % 2 == 0 ? appA : appB, products[p], null, Codes[i % Codes.Length]));
        records.Add(new UsageRecord(today.AddHours(3), null, null, "POST", "/api/v1/keys/verify", 200, 1, null, products[0], null, "NOT_FOUND"));
        var recorder = _db.Get<UsageRecorder>();
        foreach (var r in records) recorder.Record(r);
        await _db.Get<UsageWriter>().DrainAsync();

        foreach (var query in new[] { new UsageSummaryQuery(), new UsageSummaryQuery { From = now.AddHours(-24), To = now } })
        {
            var summary = (await _db.Get<UsageService>().SummaryAsync(admin, query)).Value;
            var inWindow = records.Where(r => r.At >= summary.From && r.At < summary.To).ToList();
            var keyed = inWindow.Where(r => r.KeyId is not null).ToList();
            var step = summary.Interval == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
            Assert.Equal(keyed.Count, summary.Calls);
            Assert.Equal(keyed.Count(r => r.Status >= 400), summary.Errors);
            Assert.Equal(
                keyed.GroupBy(r => UsageBuckets.Align(r.At, step)).Select(g => (g.Key, (long)g.Count(), (long)g.Count(r => r.Status >= 400))).OrderBy(p => p.Key),
                summary.Series.Where(p => p.Calls > 0).Select(p => (p.Start, p.Calls, p.Errors)));
            var codes = inWindow.Where(r => r.Outcome is not null).GroupBy(r => r.Outcome!).ToDictionary(g => g.Key, g => (long)g.Count());
            Assert.Equal(codes.OrderBy(c => c.Key), summary.Verifications.ByCode.Select(c => new KeyValuePair<string, long>(c.Code, c.Count)).OrderBy(c => c.Key));
            Assert.Equal(Top(keyed.Where(r => r.ApplicationId is not null).Select(r => r.ApplicationId!.Value)), summary.TopApplications.Select(t => (t.Id, t.Calls)));
            Assert.Equal(Top(inWindow.Where(r => r.Outcome is not null && r.ProductId is not null).Select(r => r.ProductId!.Value)), summary.TopProducts.Select(t => (t.Id, t.Calls)));
            Assert.Equal(Top(keyed.Select(r => r.KeyId!.Value)), summary.TopKeys.Select(t => (t.Id, t.Calls)));
            if (summary.Interval == "day") Assert.Equal((steady, 270L), (summary.TopKeys[0].Id, summary.TopKeys[0].Calls));
        }

        static List<(Guid, long)> Top(IEnumerable<Guid> ids) =>
            [.. ids.GroupBy(id => id).Select(g => (g.Key, (long)g.Count()))
                .OrderByDescending(t => t.Item2).ThenBy(t => t.Key.ToString(), StringComparer.OrdinalIgnoreCase).Take(5)];
    }

    [Fact]
    public async Task Upgrade_BackfillsTheRollupsFromTheOldRollupsAndTheRetainedEvents()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var personal = (await _db.Get<Portal.Core.Features.ApiKeys.ApiKeyService>().CreateAsync(developer,
            new Portal.Core.Features.ApiKeys.CreateApiKey { Name = "k", Scopes = [Scopes.Read] })).Value.Id;
        var app = (await _db.Get<Portal.Core.Features.Applications.ApplicationService>().CreateAsync(developer,
            new Portal.Core.Features.Applications.CreateApplication { Name = "A" })).Value;
        var (appId, appKey, product) = (app.Application.Id, app.Key.Id, Guid.NewGuid());
        var h1 = UsageWriter.HourOf(_db.Clock.GetUtcNow()).AddHours(-2);
        var h2 = h1.AddDays(-1);

        await using (var db = await _db.OpenAsync())
        {
            // Back to the schema before the rollup tables, with what such a database holds.
            var migrations = db.Database.GetMigrations().ToList();
            var before = migrations[migrations.FindIndex(m => m.EndsWith("_UsageRollupTables", StringComparison.Ordinal)) - 1];
            await db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>().MigrateAsync(before);
            db.UsageRollups.AddRange(
                new UsageRollup { KeyId = personal, HourStart = h1, Count = 5, Errors = 1 },
                new UsageRollup { KeyId = appKey, HourStart = h1, Count = 7 },
                new UsageRollup { KeyId = appKey, HourStart = h2, Count = 3, Errors = 2 });
            await db.SaveChangesAsync();
            // Raw events in the columns of that schema: the entity has columns added since, which EF would write too.
            var sqlite = db.Database.IsSqlite();
            object At(DateTimeOffset at) => sqlite ? at.UtcTicks : at.UtcDateTime;
            object Id(Guid id) => sqlite ? id.ToString().ToUpperInvariant() : id;
            const string insert = """INSERT INTO "UsageEvents" ("At", "KeyId", "ApplicationId", "ProductId", "Outcome", "Method", "Route", "Status", "LatencyMs") """;
            foreach (var at in new[] { h1.AddMinutes(5), h1.AddMinutes(6) })
                await db.Database.ExecuteSqlRawAsync(insert + "VALUES ({0}, {1}, {2}, {3}, 'VALID', 'POST', '/v', 200, 0)", At(at), Id(appKey), Id(appId), Id(product));
            await db.Database.ExecuteSqlRawAsync(insert + "VALUES ({0}, NULL, NULL, {1}, 'NOT_FOUND', 'POST', '/v', 200, 0)", At(h1.AddMinutes(7)), Id(product));
            await db.Database.MigrateAsync();
        }

        await using var check = await _db.OpenAsync();
        Assert.Equal([(h2, 3L, 2L, 0L), (h1, 12L, 1L, 5L)],
            (await check.UsageHours.ToListAsync()).OrderBy(h => h.HourStart).Select(h => (h.HourStart, h.Calls, h.Errors, h.PersonalCalls)));
        var day1 = UsageBuckets.Align(h1, TimeSpan.FromDays(1));
        Assert.Equal(15, await check.UsageKeyDays.Where(d => d.KeyId == personal || d.KeyId == appKey).SumAsync(d => d.Calls));
        Assert.Equal(7, (await check.UsageKeyDays.SingleAsync(d => d.KeyId == appKey && d.Day == day1)).Calls);
        Assert.Equal([(UsageSpan.Hour, 10L), (UsageSpan.Day, 10L)],
            (await check.UsageApplicationRollups.Where(r => r.ApplicationId == appId).ToListAsync())
                .GroupBy(r => r.Span).OrderBy(g => g.Key).Select(g => (g.Key, g.Sum(r => r.Calls))));
        Assert.Equal([("NOT_FOUND", 1L), ("VALID", 2L)],
            (await check.UsageOutcomeHours.Where(o => o.HourStart == h1).ToListAsync()).OrderBy(o => o.Outcome, StringComparer.Ordinal).Select(o => (o.Outcome, o.Count)));
        Assert.Equal([(UsageSpan.Hour, 3L), (UsageSpan.Day, 3L)],
            (await check.UsageProductRollups.Where(p => p.ProductId == product).ToListAsync()).OrderBy(p => p.Span).Select(p => (p.Span, p.Calls)));
        Assert.Equal([(Guid.Empty, 1L), (appKey, 2L)],
            (await check.UsageVerificationHours.Where(v => v.ProductId == product).ToListAsync()).OrderBy(v => v.Count).Select(v => (v.KeyId, v.Count)));
    }

    /// <summary>Every rollup table holds exactly what the events say (of which <paramref name="events"/> were written as raw events).</summary>
    private async Task AssertRollupsEqualAsync(List<UsageRecord> records, int? events = null)
    {
        static DateTimeOffset Hour(DateTimeOffset at) => UsageWriter.HourOf(at);
        static DateTimeOffset Day(DateTimeOffset at) => UsageBuckets.Align(at, TimeSpan.FromDays(1));
        static int Error(UsageRecord r) => r.Status >= 400 ? 1 : 0;
        var keyed = records.Where(r => r.KeyId is not null).ToList();
        var verifications = records.Where(r => r.Outcome is not null).ToList();
        await using var db = await _db.OpenAsync();

        // Unknown keys' refusals are counted per caller and minute instead of a row each, and still in every rollup below.
        Assert.Equal(events ?? records.Count(r => !r.IsUnknownKeyRefusal), await db.UsageEvents.CountAsync());
        Assert.Equal(records.Count(r => r.IsUnknownKeyRefusal), await db.UsageRefusalMinutes.SumAsync(r => r.Count));
        Assert.Equal(
            Sorted(keyed.GroupBy(r => Hour(r.At)).Select(g => $"{g.Key:O} {g.Count()} {g.Sum(Error)} {g.Count(r => r.ApplicationId is null)}")),
            Sorted((await db.UsageHours.ToListAsync()).Select(h => $"{h.HourStart:O} {h.Calls} {h.Errors} {h.PersonalCalls}")));
        Assert.Equal(
            Sorted(keyed.GroupBy(r => (r.KeyId, Hour(r.At))).Select(g => $"{g.Key.KeyId} {g.Key.Item2:O} {g.Count()} {g.Sum(Error)}")),
            Sorted((await db.UsageRollups.ToListAsync()).Select(r => $"{r.KeyId} {r.HourStart:O} {r.Count} {r.Errors}")));
        Assert.Equal(
            Sorted(keyed.GroupBy(r => (r.KeyId, Day(r.At))).Select(g => $"{g.Key.KeyId} {g.Key.Item2:O} {g.Count()} {g.Sum(Error)}")),
            Sorted((await db.UsageKeyDays.ToListAsync()).Select(r => $"{r.KeyId} {r.Day:O} {r.Calls} {r.Errors}")));
        Assert.Equal(
            Sorted(keyed.Where(r => r.ApplicationId is not null)
                .SelectMany(r => new[] { (r.ApplicationId, Span: UsageSpan.Hour, Start: Hour(r.At), r), (r.ApplicationId, Span: UsageSpan.Day, Start: Day(r.At), r) })
                .GroupBy(x => (x.ApplicationId, x.Span, x.Start)).Select(g => $"{g.Key.ApplicationId} {g.Key.Span} {g.Key.Start:O} {g.Count()} {g.Sum(x => Error(x.r))}")),
            Sorted((await db.UsageApplicationRollups.ToListAsync()).Select(r => $"{r.ApplicationId} {r.Span} {r.Start:O} {r.Calls} {r.Errors}")));
        Assert.Equal(
            Sorted(verifications.Where(r => r.ProductId is not null)
                .SelectMany(r => new[] { (r.ProductId, Span: UsageSpan.Hour, Start: Hour(r.At)), (r.ProductId, Span: UsageSpan.Day, Start: Day(r.At)) })
                .GroupBy(x => x).Select(g => $"{g.Key.ProductId} {g.Key.Span} {g.Key.Start:O} {g.Count()}")),
            Sorted((await db.UsageProductRollups.ToListAsync()).Select(r => $"{r.ProductId} {r.Span} {r.Start:O} {r.Calls}")));
        Assert.Equal(
            Sorted(verifications.GroupBy(r => (Hour(r.At), r.Outcome)).Select(g => $"{g.Key.Item1:O} {g.Key.Outcome} {g.Count()}")),
            Sorted((await db.UsageOutcomeHours.ToListAsync()).Select(o => $"{o.HourStart:O} {o.Outcome} {o.Count}")));
        Assert.Equal(
            Sorted(verifications.GroupBy(r => (r.KeyId ?? Guid.Empty, Hour(r.At), r.ProductId ?? Guid.Empty, r.Outcome))
                .Select(g => $"{g.Key.Item1} {g.Key.Item2:O} {g.Key.Item3} {g.Key.Outcome} {g.Count()}")),
            Sorted((await db.UsageVerificationHours.ToListAsync()).Select(v => $"{v.KeyId} {v.HourStart:O} {v.ProductId} {v.Outcome} {v.Count}")));

        static List<string> Sorted(IEnumerable<string> rows) => [.. rows.Order(StringComparer.Ordinal)];
    }
}
