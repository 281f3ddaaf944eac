using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;
using Portal.Web.Features.Usage;

namespace Portal.Tests.Core.Usage;

/// <summary>
/// The usage queue and writer under a sustained burst: every call recorded below the queue's capacity becomes exactly
/// one event; beyond it, what is dropped is counted and shown on <c>/healthz</c>, never lost silently.
/// </summary>
public sealed class UsageBurstTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(onFile: true);

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task ASustainedBurstOverAThousandKeys_EveryCallIsOneEvent_NothingDropped()
    {
        var recorder = _db.Get<UsageRecorder>();
        var writer = new UsageWriterService(_db.Get<UsageWriter>(), NullLogger<UsageWriterService>.Instance);
        await writer.StartAsync(CancellationToken.None);
        var keys = Enumerable.Range(0, 1_000).Select(_ => Guid.NewGuid()).ToArray();
        var now = _db.Clock.GetUtcNow();

        // Four request threads for three seconds, 20,000 calls a second, each call with the next key: the writer drains as
        // they go, with a queue far from full.
        const int PerThread = 15_000;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                recorder.Record(new UsageRecord(now.AddMilliseconds(-i), keys[(t * PerThread + i) % keys.Length], null, "GET", "/api/v1/me", 200, 1));
                if (i % 1_000 == 999) await Task.Delay(200);
            }
        })));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(0, recorder.Dropped);
        Assert.Equal(0, recorder.Queued);
        await using var db = await _db.OpenAsync();
        Assert.Equal(4 * PerThread, await db.UsageEvents.CountAsync());
        Assert.Equal(4 * PerThread, await db.UsageHours.SumAsync(h => h.Calls));
        Assert.Equal(4 * PerThread, await db.UsageKeyDays.SumAsync(d => d.Calls));
        Assert.Equal(keys.Length, await db.UsageKeyDays.CountAsync());
    }

    [Fact]
    public void AFullQueue_DropsAndCountsWhatItCannotHold()
    {
        var recorder = new UsageRecorder();
        for (var i = 0; i < UsageRecorder.Capacity + 123; i++)
            recorder.Record(new UsageRecord(_db.Clock.GetUtcNow(), Guid.NewGuid(), null, "GET", "/api/v1/me", 200, 1));

        Assert.Equal(UsageRecorder.Capacity, recorder.Queued);
        Assert.Equal(123, recorder.Dropped);
    }
}

/// <summary><c>/healthz</c> says how many usage events the instance dropped, keeping its 200.</summary>
public sealed class UsageDropsOnHealthTests : IClassFixture<PortalApiFactory>
{
    private readonly PortalApiFactory _factory;

    public UsageDropsOnHealthTests(PortalApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Healthz_CountsDroppedUsageEvents()
    {
        var client = _factory.AnonymousClient();
        var before = JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement;
        Assert.Equal(("Healthy", 0), (before.GetProperty("status").GetString(), before.GetProperty("usageEventsDropped").GetInt64()));

        // Faster than any writer drains: three queues' worth at once, so the queue fills and drops.
        var recorder = _factory.Get<UsageRecorder>();
        for (var i = 0; i < 3 * UsageRecorder.Capacity; i++)
            recorder.Record(new UsageRecord(DateTimeOffset.UtcNow, Guid.NewGuid(), null, "GET", "/api/v1/me", 200, 1));

        var response = await client.GetAsync("/healthz");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var after = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("usageEventsDropped").GetInt64();
        Assert.True(after > 0);
        Assert.Equal(recorder.Dropped, after);
    }
}
