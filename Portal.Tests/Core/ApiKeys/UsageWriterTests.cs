using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;
using Portal.Web.Features.Usage;

namespace Portal.Tests.Core.ApiKeys;

public sealed class UsageWriterTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private UsageWriterService NewHostedWriter() => new(_db.Get<UsageWriter>(), NullLogger<UsageWriterService>.Instance);

    [Fact]
    public async Task ABatchMeetingALockedDatabase_IsWrittenOnceTheLockIsGone_NotDropped()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var key = (await _db.Get<ApiKeyService>().CreateAsync(actor, new CreateApiKey { Name = "k", Scopes = [Scopes.Read] })).Value;
        var recorder = _db.Get<UsageRecorder>();
        for (var i = 0; i < 3; i++)
            recorder.Record(new UsageRecord(_db.Clock.GetUtcNow(), key.Id, actor.UserId, "GET", "/api/v1/me/", 200, 1));

        // Another writer holds the database: the usage batch's first attempt fails with SQLite's LOCKED.
        await using var blocker = await _db.OpenAsync();
        var transaction = await blocker.Database.BeginTransactionAsync();
        await blocker.Database.ExecuteSqlRawAsync("DELETE FROM UsageEvents WHERE 0");
        // On its own thread, as in the host: a blocked read inside the batch waits synchronously in SQLite's retry loop.
        var draining = Task.Run(() => _db.Get<UsageWriter>().DrainAsync());
        await Task.Delay(120);
        Assert.False(draining.IsCompleted);
        await transaction.RollbackAsync();
        await draining;

        await using var db = await _db.OpenAsync();
        Assert.Equal(3, await db.UsageEvents.CountAsync(e => e.KeyId == key.Id));
        Assert.Equal(3, await db.UsageRollups.Where(r => r.KeyId == key.Id).SumAsync(r => r.Count));
    }

    [Fact]
    public async Task TenThousandCalls_ProduceTenThousandEvents_MatchingRollups_AndLastUsed_StopFlushes()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var keys = new List<ApiKeyIssued>();
        for (var i = 0; i < 3; i++)
            keys.Add((await _db.Get<ApiKeyService>().CreateAsync(actor, new CreateApiKey { Name = $"k{i}", Scopes = [Scopes.Read] })).Value);
        var recorder = _db.Get<UsageRecorder>();
        var start = _db.Clock.GetUtcNow().AddHours(-5);
        var writer = NewHostedWriter();
        await writer.StartAsync(CancellationToken.None);

        var expected = new Dictionary<(Guid, DateTimeOffset), (long Count, long Errors)>();
        for (var i = 0; i < 10_000; i++)
        {
            var key = keys[i % 3].Id;
            var at = start.AddSeconds(i * 1.7);
            var status = i % 10 == 0 ? 500 : 200;
            recorder.Record(new UsageRecord(at, key, actor.UserId, "GET", "/api/v1/me/", status, 3));
            var bucket = (key, UsageWriter.HourOf(at));
            var (c, e) = expected.GetValueOrDefault(bucket);
            expected[bucket] = (c + 1, e + (status >= 400 ? 1 : 0));
        }
        // Stopping while events are still queued must write them all.
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(0, recorder.Queued);
        Assert.Equal(0, recorder.Dropped);
        await using var db = await _db.OpenAsync();
        Assert.Equal(10_000, await db.UsageEvents.CountAsync());
        // Raw rows read back through EF exactly as written: key filter, time and fields.
        var firstKey = keys[0].Id;
        Assert.Equal(expected.Where(b => b.Key.Item1 == firstKey).Sum(b => b.Value.Count), await db.UsageEvents.CountAsync(e => e.KeyId == firstKey));
        var first = await db.UsageEvents.OrderBy(e => e.At).FirstAsync();
        Assert.Equal((start, (Guid?)keys[0].Id, (Guid?)actor.UserId, "GET", "/api/v1/me/", 500, 3),
            (first.At, first.KeyId, first.OwnerUserId, first.Method, first.Route, first.Status, first.LatencyMs));
        var rollups = await db.UsageRollups.ToListAsync();
        Assert.Equal(expected.Count, rollups.Count);
        foreach (var r in rollups) Assert.Equal(expected[(r.KeyId, r.HourStart)], (r.Count, r.Errors));
        Assert.Equal(10_000, rollups.Sum(r => r.Count));
        var lastUsed = await db.ApiKeys.Where(k => k.Id == keys[0].Id).Select(k => k.LastUsedAt).SingleAsync();
        Assert.Equal(start.AddSeconds(9999 * 1.7), lastUsed);
    }

    [Fact]
    public async Task Stop_WithoutEverStarting_StillFlushesTheQueue()
    {
        var recorder = _db.Get<UsageRecorder>();
        for (var i = 0; i < 2500; i++)
            recorder.Record(new UsageRecord(_db.Clock.GetUtcNow(), Guid.NewGuid(), null, "POST", "/api/v1/api-keys/", 201, 1));
        await NewHostedWriter().StopAsync(CancellationToken.None);
        await using var db = await _db.OpenAsync();
        Assert.Equal(2500, await db.UsageEvents.CountAsync());
    }

    [Fact]
    public async Task Rollups_AcrossBatches_AddUp()
    {
        var recorder = _db.Get<UsageRecorder>();
        var writer = _db.Get<UsageWriter>();
        var key = Guid.NewGuid();
        var at = UsageWriter.HourOf(_db.Clock.GetUtcNow());
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 10; i++) recorder.Record(new UsageRecord(at.AddMinutes(i), key, null, "GET", "/x", 404, 1));
            await writer.DrainAsync();
        }
        await using var db = await _db.OpenAsync();
        var rollup = await db.UsageRollups.SingleAsync();
        Assert.Equal((30L, 30L), (rollup.Count, rollup.Errors));
    }

    [Fact]
    public async Task Purge_DeletesRawEventsPastRetention_KeepsRollups()
    {
        var recorder = _db.Get<UsageRecorder>();
        var writer = _db.Get<UsageWriter>();
        var now = _db.Clock.GetUtcNow();
        var key = Guid.NewGuid();
        recorder.Record(new UsageRecord(now.AddDays(-31), key, null, "GET", "/x", 200, 1));
        recorder.Record(new UsageRecord(now.AddDays(-29), key, null, "GET", "/x", 200, 1));
        recorder.Record(new UsageRecord(now, key, null, "GET", "/x", 200, 1));
        await writer.DrainAsync();

        Assert.Equal(1, await writer.PurgeAsync());

        await using var db = await _db.OpenAsync();
        Assert.Equal(2, await db.UsageEvents.CountAsync());
        Assert.Equal(3, await db.UsageRollups.SumAsync(r => r.Count));
    }

    [Fact]
    public async Task Purge_DeletesInSlices_UntilEveryExpiredEventIsGone()
    {
        var recorder = _db.Get<UsageRecorder>();
        var writer = _db.Get<UsageWriter>();
        var old = _db.Clock.GetUtcNow().AddDays(-40);
        var key = Guid.NewGuid();
        var expired = UsageWriter.PurgeSlice * 2 + 7;
        for (var i = 0; i < expired; i++) recorder.Record(new UsageRecord(old.AddSeconds(i), key, null, "GET", "/x", 200, 1));
        recorder.Record(new UsageRecord(_db.Clock.GetUtcNow(), key, null, "GET", "/x", 200, 1));
        await writer.DrainAsync();

        Assert.Equal(expired, await writer.PurgeAsync());

        await using var db = await _db.OpenAsync();
        Assert.Equal(1, await db.UsageEvents.CountAsync());
    }

    [Fact]
    public async Task Recorder_WhenFull_DropsAndCounts_WithoutWaiting_FromManyThreads()
    {
        var recorder = new UsageRecorder();
        var record = new UsageRecord(_db.Clock.GetUtcNow(), Guid.NewGuid(), null, "GET", "/x", 200, 1);
        const int threads = 4, each = UsageRecorder.Capacity / threads + 10;
        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < each; i++) recorder.Record(record);
        })));

        Assert.Equal(UsageRecorder.Capacity, recorder.Queued);
        Assert.Equal(threads * each - UsageRecorder.Capacity, recorder.Dropped);
    }
}
