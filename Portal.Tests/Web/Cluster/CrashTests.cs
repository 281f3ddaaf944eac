using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Core.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Cluster;

/// <summary>
/// One Portal process on a SQLite file, killed with <c>kill -9</c> right after its last answers and started again:
/// the quota it granted is still used, and the usage events of its answers (with every rollup) are in the database.
/// </summary>
public sealed class CrashTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private string _gatewayKey = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(onFile: true);
        var (admin, _) = await _db.CreateUserAsync(Roles.Admin);
        _gatewayKey = (await _db.Get<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey
        {
            Name = "gateway", Scopes = [Scopes.Read], OwnerId = admin.Id,
        })).Value.Key;
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<(string Key, string Product, Guid SubscriptionId)> SubscribedAsync(long quota, string? upstream = null)
    {
        var root = await _db.RootAsync();
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var app = (await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = "crash" })).Value;
        var plan = ProductServiceTests.Plan("Gold", PlanType.Subscription);
        plan.RateLimit = null;
        plan.Quota = quota;
        plan.QuotaPeriod = QuotaPeriod.Month;
        var product = (await _db.Get<ProductService>().CreateAsync(root, new CreateProduct
        {
            Name = $"Payments {Guid.NewGuid():N}"[..20], Published = true, RequiresApproval = true, Plans = [plan], UpstreamUrl = upstream,
        })).Value;
        var subscriptions = _db.Get<SubscriptionService>();
        var waiting = (await subscriptions.CreateAsync(developer, new CreateSubscription
        {
            ApplicationId = app.Application.Id, ProductId = product.Id, PlanId = product.Plans[0].Id,
        })).Value;
        Assert.True((await subscriptions.ApproveAsync(root, waiting.Id, new DecideSubscription())).IsSuccess);
        return (app.Key.Key, product.Slug, waiting.Id);
    }

    private Task<PortalProcess> StartAsync() => PortalProcess.StartAsync(new Dictionary<string, string>
    {
        ["Portal__Database__ConnectionString"] = _db.ConnectionString,
        ["Portal__Bootstrap__AdminEmail"] = TestDatabase.AdminEmail,
        ["Portal__Bootstrap__AdminPassword"] = TestDatabase.AdminPassword,
    });

    private async Task<string> VerifyAsync(HttpClient http, string key, string product)
    {
        using var response = await http.PostAsJsonAsync("api/v1/keys/verify", new { key, product });
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("code").GetString()!;
    }

    private HttpClient Client(PortalProcess portal)
    {
        var http = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _gatewayKey);
        return http;
    }

    private async Task<long> UsedAsync(Guid subscriptionId)
    {
        await using var db = await _db.OpenAsync();
        return await db.QuotaCounters.Where(c => c.SubscriptionId == subscriptionId).SumAsync(c => c.Used);
    }

    [Fact]
    public async Task KillNine_NearTheEndOfAQuota_LosesNoCall_AndGrantsNoMore()
    {
        var (key, product, subscriptionId) = await SubscribedAsync(quota: 100);
        await using (var portal = await StartAsync())
        {
            using var http = Client(portal);
            for (var i = 0; i < 95; i++) Assert.Equal("VALID", await VerifyAsync(http, key, product));
            // Right after the last answer: calls within the last tenth of a quota are saved before they are answered.
            portal.KillHard();
        }

        Assert.Equal(95, await UsedAsync(subscriptionId));
        await using (var restarted = await StartAsync())
        {
            using var http = Client(restarted);
            var codes = new List<string>();
            for (var i = 0; i < 10; i++) codes.Add(await VerifyAsync(http, key, product));
            Assert.Equal(5, codes.Count(c => c == "VALID"));
            Assert.Equal("QUOTA_EXCEEDED", codes[^1]);
        }
    }

    [Fact]
    public async Task KillNine_FarFromTheLimit_LosesAtMostTheLastMoments()
    {
        var (key, product, subscriptionId) = await SubscribedAsync(quota: 1_000_000);
        var answered = 0;
        await using (var portal = await StartAsync())
        {
            using var http = Client(portal);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(1.5))
            {
                Assert.Equal("VALID", await VerifyAsync(http, key, product));
                answered++;
            }
            // Counts are saved every 100 ms; half a second leaves room for a busy machine's late timer, far less
            // than the second that a save interval of one second needed.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            portal.KillHard();
        }

        Assert.Equal(answered, await UsedAsync(subscriptionId));
    }

    /// <summary>Verifications through the API and calls through the gateway, alternating, for <paramref name="duration"/>; how many of each were answered.</summary>
    private async Task<(int Verified, int Forwarded)> CallAsync(PortalProcess portal, string key, string product, TimeSpan duration)
    {
        using var http = Client(portal);
        using var gateway = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        gateway.DefaultRequestHeaders.Add("X-Api-Key", key);
        var (verified, forwarded) = (0, 0);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            Assert.Equal("VALID", await VerifyAsync(http, key, product));
            verified++;
            using var answer = await gateway.GetAsync($"gateway/{product}/orders?page=2");
            Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
            await answer.Content.ReadAsStringAsync();
            forwarded++;
        }
        return (verified, forwarded);
    }

    /// <summary>What the database holds of the usage: raw events by source, and each rollup's total.</summary>
    private async Task<Dictionary<string, long>> UsageTotalsAsync()
    {
        await using var db = await _db.OpenAsync();
        return new Dictionary<string, long>
        {
            ["events Verification"] = await db.UsageEvents.CountAsync(e => e.Source == Portal.Core.Features.Usage.UsageSource.Verification),
            ["events Gateway"] = await db.UsageEvents.CountAsync(e => e.Source == Portal.Core.Features.Usage.UsageSource.Gateway),
            ["UsageRollups"] = await db.UsageRollups.SumAsync(r => r.Count),
            ["UsageHours"] = await db.UsageHours.SumAsync(h => h.Calls),
            ["UsageOutcomeHours"] = await db.UsageOutcomeHours.SumAsync(o => o.Count),
            ["UsageKeyDays"] = await db.UsageKeyDays.SumAsync(d => d.Calls),
            ["UsageApplicationRollups hour"] = await db.UsageApplicationRollups.Where(r => r.Span == Portal.Core.Features.Usage.UsageSpan.Hour).SumAsync(r => r.Calls),
            ["UsageApplicationRollups day"] = await db.UsageApplicationRollups.Where(r => r.Span == Portal.Core.Features.Usage.UsageSpan.Day).SumAsync(r => r.Calls),
            ["UsageProductRollups hour"] = await db.UsageProductRollups.Where(r => r.Span == Portal.Core.Features.Usage.UsageSpan.Hour).SumAsync(r => r.Calls),
            ["UsageProductRollups day"] = await db.UsageProductRollups.Where(r => r.Span == Portal.Core.Features.Usage.UsageSpan.Day).SumAsync(r => r.Calls),
            ["UsageVerificationHours"] = await db.UsageVerificationHours.SumAsync(v => v.Count),
        };
    }

    private static Dictionary<string, long> Expected(int verified, int forwarded)
    {
        var all = verified + forwarded;
        return new Dictionary<string, long>
        {
            ["events Verification"] = verified, ["events Gateway"] = forwarded,
            ["UsageRollups"] = all, ["UsageHours"] = all, ["UsageOutcomeHours"] = all, ["UsageKeyDays"] = all,
            ["UsageApplicationRollups hour"] = all, ["UsageApplicationRollups day"] = all,
            ["UsageProductRollups hour"] = all, ["UsageProductRollups day"] = all, ["UsageVerificationHours"] = all,
        };
    }

    [Fact]
    public async Task KillNine_UsageEventsAndRollups_HoldEveryCallAnsweredBeforeTheLastMoments()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var (key, product, _) = await SubscribedAsync(quota: 1_000_000, upstream: upstream.BaseUrl);
        (int Verified, int Forwarded) answered;
        await using (var portal = await StartAsync())
        {
            answered = await CallAsync(portal, key, product, TimeSpan.FromSeconds(1.5));
            // A kill may lose at most the last 100 ms of usage (the writer gathers events for 50 ms, then writes them);
            // 300 ms leave room for a busy machine's late thread and the batch's own write, and stay far below the
            // second a slower writer would need. Everything answered before this pause must be in the database.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            portal.KillHard();
        }

        Assert.True(answered.Verified > 0 && answered.Forwarded > 0);
        Assert.Equal(Expected(answered.Verified, answered.Forwarded), await UsageTotalsAsync());
    }

    [Fact]
    public async Task GracefulStop_RightAfterTheLastAnswers_LosesNoUsageEventAndNoQuotaUse()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var (key, product, subscriptionId) = await SubscribedAsync(quota: 1_000_000, upstream: upstream.BaseUrl);
        (int Verified, int Forwarded) answered;
        await using (var portal = await StartAsync())
        {
            answered = await CallAsync(portal, key, product, TimeSpan.FromSeconds(1));
            // No pause: the stop itself writes what is queued.
            await portal.StopGracefullyAsync(TimeSpan.FromSeconds(60));
        }

        Assert.Equal(Expected(answered.Verified, answered.Forwarded), await UsageTotalsAsync());
        Assert.Equal(answered.Verified + answered.Forwarded, await UsedAsync(subscriptionId));
    }
}
