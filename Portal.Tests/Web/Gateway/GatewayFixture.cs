using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Gateway;

/// <summary>The portal on real Kestrel (a loopback port) and a real upstream Kestrel server beside it.</summary>
public class GatewayFixture : IAsyncLifetime
{
    public GatewayFixture() : this(null)
    {
    }

    /// <param name="settings">Configuration values for the portal (<c>Portal:Gateway:PathPrefix</c>), as the environment would give them.</param>
    protected GatewayFixture(IReadOnlyDictionary<string, string?>? settings) =>
        Portal = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(), settings: settings);

    public PortalApiFactory Portal { get; }
    public UpstreamServer Upstream { get; private set; } = null!;
    public Uri PortalAddress { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Upstream = await UpstreamServer.StartAsync();
        Portal.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        Portal.StartServer();
        PortalAddress = new Uri(Portal.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public HttpClient Client(Action<HttpClient>? configure = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = PortalAddress, Timeout = TimeSpan.FromSeconds(60) };
        configure?.Invoke(client);
        return client;
    }

    public sealed record Subscribed(string Key, Guid KeyId, Guid ApplicationId, Guid AccountId, Guid SubscriptionId, string Slug, Guid ProductId, string PlanName);

    /// <summary>A product on <paramref name="upstream"/> (the upstream server by default) and an application with an APPROVED subscription to it.</summary>
    public async Task<Subscribed> SubscribedAsync(int? rateLimit = null, long? quota = null, RateLimitWindow window = RateLimitWindow.Second,
        string? upstream = null, bool published = true, int timeoutSeconds = 30, long maxBody = GatewayRules.DefaultMaxRequestBodyBytes)
    {
        var (_, developer, _) = await Portal.ClientWithKeyAsync(Roles.Developer);
        var created = (await Portal.Get<ApplicationService>().CreateAsync(new Actor(developer.Id, developer.Email, developer.Roles),
            new CreateApplication { Name = "Gateway test app" })).Value;
        var slug = $"gw-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Pro", Type = PlanType.Metered, RateLimit = rateLimit, RateLimitWindow = window, Quota = quota, QuotaPeriod = QuotaPeriod.Month };
        var product = new ApiProduct
        {
            Name = slug, Slug = slug, Published = published, Plans = [plan], UpstreamUrl = upstream ?? Upstream.BaseUrl + "/base",
            UpstreamTimeoutSeconds = timeoutSeconds, MaxRequestBodyBytes = maxBody,
        };
        var subscription = new Subscription
        {
            ApplicationId = created.Application.Id, ApplicationName = created.Application.Name, AccountId = created.Application.AccountId,
            ProductId = product.Id, PlanId = plan.Id, Status = SubscriptionStatus.Approved,
        };
        await using (var db = await Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            db.Products.Add(product);
            db.Subscriptions.Add(subscription);
            await db.SaveChangesAsync();
        }
        Portal.Get<VerificationCache>().Invalidate();
        Portal.Get<GatewayRoutes>().Reload();
        return new Subscribed(created.Key.Key, created.Key.Id, created.Application.Id, created.Application.AccountId, subscription.Id, slug, product.Id, plan.Name);
    }

    /// <summary>
    /// The product's usage events, once at least <paramref name="atLeast"/> are written (for up to 10 s): a call is
    /// recorded when the server has finished its answer, which can be just after the client read the last byte.
    /// </summary>
    public async Task<List<UsageEvent>> UsageOfAsync(Guid productId, int atLeast = 0)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await Portal.Get<UsageWriter>().DrainAsync();
            await using var db = await Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
            var events = await db.UsageEvents.AsNoTracking().Where(e => e.ProductId == productId).OrderBy(e => e.Id).ToListAsync();
            if (events.Count >= atLeast || waited.Elapsed > TimeSpan.FromSeconds(10)) return events;
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Portal.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
