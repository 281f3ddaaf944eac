using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Core.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Cluster;

/// <summary>
/// One Portal process on a SQLite file, killed with <c>kill -9</c> right after its last answers and started again:
/// the quota it granted is still used.
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

    private async Task<(string Key, string Product, Guid SubscriptionId)> SubscribedAsync(long quota)
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
            Name = $"Payments {Guid.NewGuid():N}"[..20], Published = true, RequiresApproval = true, Plans = [plan],
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
}
