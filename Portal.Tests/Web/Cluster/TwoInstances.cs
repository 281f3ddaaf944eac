using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Tests.Core.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Cluster;

/// <summary>
/// Two whole Portal hosts (A and B) on one PostgreSQL database, with a redis-server of their own or without one
/// (then LISTEN/NOTIFY carries the cache notices): what a load balancer in front of two instances sees.
/// </summary>
public abstract class TwoInstances(bool withRedis) : IAsyncLifetime
{
    public TestPostgres Database { get; private set; } = null!;
    public TestRedis? Redis { get; private set; }
    public PortalApiFactory A { get; private set; } = null!;
    public PortalApiFactory B { get; private set; } = null!;
    public Actor Root { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Database = await TestPostgres.CreateAsync();
        if (withRedis) Redis = await TestRedis.StartAsync();
        // One after the other: the first migrates the database and creates the administrator.
        A = Host();
        _ = A.Services;
        B = Host();
        _ = B.Services;
        Root = await A.RootAsync();
    }

    private PortalApiFactory Host() => new(DatabaseProvider.PostgreSql, Database.ConnectionString, services =>
        services.Configure<PortalOptions>(o =>
        {
            o.Redis.ConnectionString = Redis?.ConnectionString;
            o.Webhooks.AllowPrivateTargets = true;
        }));

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
        await Database.DisposeAsync();
    }

    public sealed record Subscribed(Actor Developer, Guid ApplicationId, Guid AccountId, Guid KeyId, string Key, string Product, Guid SubscriptionId);

    /// <summary>A developer's application with a key, subscribed (approved) to a new product whose one plan has these limits.</summary>
    public async Task<Subscribed> SubscribedAsync(int? rateLimit = null, RateLimitWindow window = RateLimitWindow.Minute, long? quota = null)
    {
        var user = (await A.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"dev-{Guid.NewGuid():N}@portal.test", DisplayName = "Dev", Password = "Passw0rd!", Roles = [Roles.Developer],
        })).Value;
        var developer = new Actor(user.Id, user.Email, user.Roles);
        var app = (await A.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = $"app-{Guid.NewGuid():N}"[..20] })).Value;
        var plan = ProductServiceTests.Plan("Gold", PlanType.Subscription);
        plan.RateLimit = rateLimit;
        plan.RateLimitWindow = window;
        plan.Quota = quota;
        plan.QuotaPeriod = QuotaPeriod.Day;
        var product = await A.Get<ProductService>().CreateAsync(Root, new CreateProduct
        {
            Name = $"Payments {Guid.NewGuid():N}"[..20], Published = true, RequiresApproval = true, Plans = [plan],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);
        var subscriptions = A.Get<SubscriptionService>();
        var waiting = (await subscriptions.CreateAsync(developer, new CreateSubscription
        {
            ApplicationId = app.Application.Id, ProductId = product.Value.Id, PlanId = product.Value.Plans[0].Id,
        })).Value;
        Assert.True((await subscriptions.ApproveAsync(Root, waiting.Id, new DecideSubscription())).IsSuccess);
        return new Subscribed(developer, app.Application.Id, app.Application.AccountId, app.Key.Id, app.Key.Key, product.Value.Slug, waiting.Id);
    }

    public async Task<VerifyResult> VerifyAsync(PortalApiFactory host, Subscribed subscribed)
    {
        var result = await host.Get<VerificationService>().VerifyAsync(Root, new VerifyKey { Key = subscribed.Key, Product = subscribed.Product });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    /// <summary>Asks until <paramref name="check"/> holds, for at most <paramref name="within"/>; returns how long it took.</summary>
    public static async Task<TimeSpan> WithinAsync(TimeSpan within, Func<Task<bool>> check)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await check()) return clock.Elapsed;
            Assert.True(clock.Elapsed < within, $"not seen within {within.TotalMilliseconds} ms");
            await Task.Delay(20);
        }
    }
}

public sealed class TwoInstancesWithRedis() : TwoInstances(withRedis: true);

public sealed class TwoInstancesWithoutRedis() : TwoInstances(withRedis: false);
