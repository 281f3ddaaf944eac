using Microsoft.EntityFrameworkCore;
using Npgsql;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Core.Webhooks;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Cluster;

/// <summary>Two instances, one PostgreSQL, one Redis: limits exact across both, changes on A refused on B within a second.</summary>
public sealed class TwoInstanceRedisTests(TwoInstancesWithRedis cluster) : IClassFixture<TwoInstancesWithRedis>
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task RateLimit_CallsAlternatingBetweenInstances_ExactlyTheLimitPassPerWindow()
    {
        var subscribed = await cluster.SubscribedAsync(rateLimit: 5, window: Portal.Core.Domain.RateLimitWindow.Minute);
        var answers = new List<VerifyResult>();
        for (var i = 0; i < 40; i++) answers.Add(await cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed));

        // Grouped by window (its end), in case the calls cross a minute's boundary: no window lets more than 5 pass,
        // and the window that refused let exactly 5 pass.
        var byWindow = answers.GroupBy(a => a.Ratelimit!.ResetAt).ToList();
        Assert.All(byWindow, w => Assert.True(w.Count(a => a.Valid) <= 5));
        var refusing = byWindow.Where(w => w.Any(a => a.Code == VerifyCode.RateLimited)).ToList();
        Assert.NotEmpty(refusing);
        Assert.All(refusing, w => Assert.Equal(5, w.Count(a => a.Valid)));
        Assert.All(answers, a => Assert.Contains(a.Code, new[] { VerifyCode.Valid, VerifyCode.RateLimited }));
    }

    [Fact]
    public async Task Quota_200ConcurrentCallsOnTwoInstances_ExactlyTheQuotaPass_AndTheDatabaseHoldsIt()
    {
        var subscribed = await cluster.SubscribedAsync(quota: 20);

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed))));

        Assert.Equal(20, answers.Count(a => a.Valid));
        Assert.Equal(180, answers.Count(a => a.Code == VerifyCode.QuotaExceeded));
        Assert.Equal(0, answers.Min(a => a.Quota!.Remaining));
        await cluster.A.Get<ILimitStore>().FlushAsync();
        await cluster.B.Get<ILimitStore>().FlushAsync();
        Assert.Equal(20, await UsedAsync(subscribed.SubscriptionId));
    }

    [Fact]
    public async Task RedisRestart_TotalsAreSeededFromTheDatabase()
    {
        var subscribed = await cluster.SubscribedAsync(quota: 10);
        for (var i = 0; i < 6; i++) Assert.True((await cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed)).Valid);
        await cluster.A.Get<ILimitStore>().FlushAsync();
        await cluster.B.Get<ILimitStore>().FlushAsync();

        await cluster.Redis!.RestartAsync();

        // Until the connection is back an instance counts on its own: wait for both to answer through Redis again.
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(20), () => Task.FromResult(
            cluster.A.Get<Portal.Core.Features.Cluster.PortalRedis>().Connection.IsConnected
            && cluster.B.Get<Portal.Core.Features.Cluster.PortalRedis>().Connection.IsConnected));
        var answers = new List<VerifyResult>();
        for (var i = 0; i < 10; i++) answers.Add(await cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed));

        Assert.Equal(4, answers.Count(a => a.Valid));
        Assert.Equal(VerifyCode.QuotaExceeded, answers[^1].Code);
        await cluster.A.Get<ILimitStore>().FlushAsync();
        await cluster.B.Get<ILimitStore>().FlushAsync();
        Assert.Equal(10, await UsedAsync(subscribed.SubscriptionId));
    }

    [Fact]
    public async Task RedisDown_VerificationGoesOn_CountingOnEachInstance()
    {
        var subscribed = await cluster.SubscribedAsync(quota: 3);
        cluster.Redis!.Stop();
        try
        {
            var answers = new List<VerifyResult>();
            for (var i = 0; i < 5; i++) answers.Add(await cluster.VerifyAsync(cluster.A, subscribed));

            // No error and no refusal of everything: instance A counts on its own, from the database's total.
            Assert.Equal(3, answers.Count(a => a.Valid));
            Assert.Equal(VerifyCode.QuotaExceeded, answers[^1].Code);
        }
        finally
        {
            await cluster.Redis.StartAgainAsync();
            await TwoInstances.WithinAsync(TimeSpan.FromSeconds(20), () => Task.FromResult(
                cluster.A.Get<Portal.Core.Features.Cluster.PortalRedis>().Connection.IsConnected
                && cluster.B.Get<Portal.Core.Features.Cluster.PortalRedis>().Connection.IsConnected));
        }
        await cluster.A.Get<ILimitStore>().FlushAsync();
        Assert.Equal(3, await UsedAsync(subscribed.SubscriptionId));
    }

    [Fact]
    public async Task KeyRevokedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid); // cached on B

        Assert.True((await cluster.A.Get<ApplicationService>().RevokeKeyAsync(subscribed.Developer, subscribed.ApplicationId, subscribed.KeyId)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.Revoked);
    }

    [Fact]
    public async Task UnsubscribedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        Assert.True((await cluster.A.Get<SubscriptionService>().UnsubscribeAsync(subscribed.Developer, subscribed.SubscriptionId)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.NotSubscribed);
    }

    [Fact]
    public async Task AccountSuspendedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        Assert.True((await cluster.A.Get<AccountService>().SetStatusAsync(cluster.Root, subscribed.AccountId, AccountStatus.Suspended)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.Disabled);
    }

    [Fact]
    public async Task KeyRegeneratedOnA_TheOldSecretIsRefusedOnB_WithinASecond() => await RegenerationTests.RegeneratedOnA_SeenOnB(cluster);

    [Fact]
    public async Task AdminDemotedOnA_LosesAdminOnB_WithinASecond() => await DemotionTests.DemotedOnA_SeenOnB(cluster);

    [Fact]
    public async Task ProductUpstreamEditedOnA_IsForwardedToOnB_WithinASecond() => await GatewayRouteTests.EditedOnA_SeenOnB(cluster);

    [Fact]
    public async Task ProductCreatedThenDeletedOnA_IsFoundThenGoneOnB_WithinASecond() => await GatewayRouteTests.CreatedThenDeletedOnA_SeenOnB(cluster);

    [Fact]
    public async Task OtherSessionsEndedOnA_AreHeardOfOnB_WithinASecond() => await DemotionTests.SessionsEndedOnA_SeenOnB(cluster);

    [Fact]
    public async Task Webhooks_WithTwoInstances_AreDeliveredOnce()
    {
        await using var receiver = new WebhookReceiver();
        var endpoint = (await cluster.A.Get<WebhookService>().CreateAsync(cluster.Root, WebhookServiceTests.Request(receiver.Url))).Value;
        var queued = new List<Guid>();
        for (var i = 0; i < 20; i++)
            queued.Add((await (i % 2 == 0 ? cluster.A : cluster.B).Get<WebhookService>().SendTestAsync(cluster.Root, endpoint.Id)).Value.EventId);

        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(receiver.Requests.Count >= queued.Count));
        // Both dispatchers keep polling meanwhile: a second delivery would show up here.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var delivered = receiver.Requests.Select(r => Guid.Parse(r.Headers["webhook-id"])).ToList();
        Assert.Equal(queued.Order(), delivered.Order());
    }

    [Fact]
    public async Task Usage_ConcurrentCallsOnBothInstances_EveryRollupEqualsTheCallsMade()
    {
        await using var upstream = await UpstreamServer.StartAsync();
        var subscribed = await cluster.SubscribedAsync();
        var product = (await cluster.A.Get<ProductService>().GetAsync(cluster.Root, subscribed.Product)).Value;
        Assert.True((await cluster.A.Get<ProductService>().UpdateAsync(cluster.Root, product.Id, new UpdateProduct { UpstreamUrl = upstream.BaseUrl })).IsSuccess);
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(5), async () => await cluster.B.Get<GatewayRoutes>().FindAsync(subscribed.Product) is not null);
        await DrainBothAsync();
        var before = await UsageTotalsAsync(product.Id);

        // Verifications and gateway calls at once, alternating between the instances: both writers add to the same
        // rollup rows (the hour, the key, the application, the product, the code) at the same time.
        const int calls = 400;
        using var gatewayA = cluster.A.ClientWithKey(subscribed.Key, asHeader: true);
        using var gatewayB = cluster.B.ClientWithKey(subscribed.Key, asHeader: true);
        var answers = await Task.WhenAll(Enumerable.Range(0, calls).Select(i => Task.Run(async () =>
        {
            var host = i % 2 == 0 ? cluster.A : cluster.B;
            if (i % 4 < 2) return (await cluster.VerifyAsync(host, subscribed)).Valid;
            using var answer = await (i % 2 == 0 ? gatewayA : gatewayB).GetAsync($"/gateway/{subscribed.Product}/items/{i}");
            return answer.StatusCode == System.Net.HttpStatusCode.OK;
        })));
        Assert.All(answers, a => Assert.True(a));

        // A gateway call is recorded once its answer is finished, which can be just after the client has read it.
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(20), async () =>
        {
            await DrainBothAsync();
            return (await UsageTotalsAsync(product.Id))["events"] - before["events"] >= calls;
        });
        var after = await UsageTotalsAsync(product.Id);
        Assert.Equal(before.ToDictionary(b => b.Key, _ => (long)calls), after.ToDictionary(a => a.Key, a => a.Value - before[a.Key]));
    }

    private async Task DrainBothAsync()
    {
        await cluster.A.Get<Portal.Core.Features.Usage.UsageWriter>().DrainAsync();
        await cluster.B.Get<Portal.Core.Features.Usage.UsageWriter>().DrainAsync();
    }

    /// <summary>The product's raw events and every rollup table's total (the portal-wide ones as they stand: tests of this class run one at a time).</summary>
    private async Task<Dictionary<string, long>> UsageTotalsAsync(Guid productId)
    {
        await using var db = await cluster.A.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Core.Data.PortalDbContext>>().CreateDbContextAsync();
        return new Dictionary<string, long>
        {
            ["events"] = await db.UsageEvents.LongCountAsync(e => e.ProductId == productId),
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

    private async Task<long> UsedAsync(Guid subscriptionId)
    {
        await using var connection = new NpgsqlConnection(cluster.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT COALESCE(SUM("Used"), 0)::bigint FROM "QuotaCounters" WHERE "SubscriptionId" = @id""", connection);
        command.Parameters.AddWithValue("id", subscriptionId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>Two instances, one PostgreSQL and no Redis: cache notices through LISTEN/NOTIFY.</summary>
public sealed class TwoInstanceListenNotifyTests(TwoInstancesWithoutRedis cluster) : IClassFixture<TwoInstancesWithoutRedis>
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task KeyRevokedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        Assert.True((await cluster.A.Get<ApplicationService>().RevokeKeyAsync(subscribed.Developer, subscribed.ApplicationId, subscribed.KeyId)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.Revoked);
    }

    [Fact]
    public async Task UnsubscribedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        Assert.True((await cluster.A.Get<SubscriptionService>().UnsubscribeAsync(subscribed.Developer, subscribed.SubscriptionId)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.NotSubscribed);
    }

    [Fact]
    public async Task AccountSuspendedOnA_IsRefusedOnB_WithinASecond()
    {
        var subscribed = await cluster.SubscribedAsync();
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        Assert.True((await cluster.A.Get<AccountService>().SetStatusAsync(cluster.Root, subscribed.AccountId, AccountStatus.Suspended)).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () => (await cluster.VerifyAsync(cluster.B, subscribed)).Code == VerifyCode.Disabled);
    }

    [Fact]
    public async Task KeyRegeneratedOnA_TheOldSecretIsRefusedOnB_WithinASecond() => await RegenerationTests.RegeneratedOnA_SeenOnB(cluster);

    [Fact]
    public async Task AdminDemotedOnA_LosesAdminOnB_WithinASecond() => await DemotionTests.DemotedOnA_SeenOnB(cluster);

    [Fact]
    public async Task ProductUpstreamEditedOnA_IsForwardedToOnB_WithinASecond() => await GatewayRouteTests.EditedOnA_SeenOnB(cluster);

    [Fact]
    public async Task ProductCreatedThenDeletedOnA_IsFoundThenGoneOnB_WithinASecond() => await GatewayRouteTests.CreatedThenDeletedOnA_SeenOnB(cluster);

    [Fact]
    public async Task OtherSessionsEndedOnA_AreHeardOfOnB_WithinASecond() => await DemotionTests.SessionsEndedOnA_SeenOnB(cluster);
}

internal static class GatewayRouteTests
{
    /// <summary>B's gateway has the product's route in memory; an edit of its upstream on A reaches it within a second.</summary>
    public static async Task EditedOnA_SeenOnB(TwoInstances cluster)
    {
        var subscribed = await cluster.SubscribedAsync();
        var product = (await cluster.A.Get<ProductService>().GetAsync(cluster.Root, subscribed.Product)).Value;
        Assert.Null(await cluster.B.Get<GatewayRoutes>().FindAsync(subscribed.Product)); // no upstream yet: B's table holds no route
        Assert.True((await cluster.A.Get<ProductService>().UpdateAsync(cluster.Root, product.Id, new UpdateProduct { UpstreamUrl = "http://127.0.0.1:9/v1" })).IsSuccess);
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(1), async () =>
            (await cluster.B.Get<GatewayRoutes>().FindAsync(subscribed.Product))?.Upstream.ToString().Contains(":9/v1") == true);

        Assert.True((await cluster.A.Get<ProductService>().UpdateAsync(cluster.Root, product.Id, new UpdateProduct { UpstreamUrl = "http://127.0.0.1:9/v2" })).IsSuccess);

        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(1), async () =>
            (await cluster.B.Get<GatewayRoutes>().FindAsync(subscribed.Product))?.Upstream.ToString().Contains(":9/v2") == true);
    }

    /// <summary>B's table is in memory without the product; its creation, then its deletion, on A reach B within a second.</summary>
    public static async Task CreatedThenDeletedOnA_SeenOnB(TwoInstances cluster)
    {
        var slug = $"maps-{Guid.NewGuid():N}"[..16];
        Assert.Null(await cluster.B.Get<GatewayRoutes>().FindAsync(slug));
        var created = await cluster.A.Get<ProductService>().CreateAsync(cluster.Root, new CreateProduct
        {
            Name = "Maps", Slug = slug, Published = true, UpstreamUrl = "http://127.0.0.1:9/maps", Plans = [Portal.Tests.Core.Products.ProductServiceTests.Plan("Free")],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(1), async () => await cluster.B.Get<GatewayRoutes>().FindAsync(slug) is not null);

        Assert.True((await cluster.A.Get<ProductService>().DeleteAsync(cluster.Root, created.Value.Id)).IsSuccess);

        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(1), async () => await cluster.B.Get<GatewayRoutes>().FindAsync(slug) is null);
    }
}

internal static class RegenerationTests
{
    /// <summary>A regeneration is a bulk update, whose rows the caches cannot know: B drops every key it holds.</summary>
    public static async Task RegeneratedOnA_SeenOnB(TwoInstances cluster)
    {
        var owner = (await cluster.A.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"dev-{Guid.NewGuid():N}@portal.test", DisplayName = "Dev", Password = "Passw0rd!", Roles = [Roles.Developer],
        })).Value;
        var key = await cluster.A.IssueKeyAsync(owner.Id, [Scopes.Read]);
        Assert.True((await cluster.B.Get<ApiKeyService>().AuthenticateAsync(key.Key)).IsValid); // cached on B

        var regenerated = await cluster.A.Get<ApiKeyService>().RegenerateAsync(new Actor(owner.Id, owner.Email, owner.Roles), key.Id, new RegenerateApiKey());
        Assert.True(regenerated.IsSuccess, regenerated.Error?.Detail);

        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(1), async () =>
            (await cluster.B.Get<ApiKeyService>().AuthenticateAsync(key.Key)).Code == KeyCheckCode.NotFound);
        Assert.True((await cluster.B.Get<ApiKeyService>().AuthenticateAsync(regenerated.Value.Key)).IsValid);
    }
}

internal static class DemotionTests
{
    /// <summary>B's key cache drops the demoted admin's keys, and B's sign-ins hear that the stamp changed (circuits and cookies re-check).</summary>
    public static async Task DemotedOnA_SeenOnB(TwoInstances cluster)
    {
        var admin = (await cluster.A.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"admin-{Guid.NewGuid():N}@portal.test", DisplayName = "Admin", Password = "Passw0rd!", Roles = [Roles.Admin],
        })).Value;
        var key = await cluster.A.IssueKeyAsync(admin.Id, [Scopes.Read]);
        var onB = await cluster.B.Get<ApiKeyService>().AuthenticateAsync(key.Key);
        Assert.Contains(Roles.Admin, onB.Identity!.Roles); // cached on B

        Assert.True((await cluster.A.Get<UserService>().UpdateAsync(cluster.Root, admin.Id, new UpdateUser { Roles = [Roles.Developer] })).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, async () =>
            !(await cluster.B.Get<ApiKeyService>().AuthenticateAsync(key.Key)).Identity!.Roles.Contains(Roles.Admin)
            && cluster.B.Get<SignInChanges>().ChangedSince(admin.Id, null));
    }

    /// <summary>A user ends their other sessions on A (a new stamp, nothing else the key cache reads): B's sign-ins hear of it.</summary>
    public static async Task SessionsEndedOnA_SeenOnB(TwoInstances cluster)
    {
        var user = (await cluster.A.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"dev-{Guid.NewGuid():N}@portal.test", DisplayName = "Dev", Password = "Passw0rd!", Roles = [Roles.Developer],
        })).Value;
        Assert.False(cluster.B.Get<SignInChanges>().ChangedSince(user.Id, null));

        Assert.True((await cluster.A.Get<Portal.Core.Features.Profile.ProfileService>().SignOutOtherSessionsAsync(new Actor(user.Id, user.Email, user.Roles))).IsSuccess);

        await TwoInstances.WithinAsync(OneSecond, () => Task.FromResult(cluster.B.Get<SignInChanges>().ChangedSince(user.Id, null)));
    }

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);
}
