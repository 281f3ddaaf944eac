using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;

namespace Portal.Tests.Support;

/// <summary>
/// A small, exactly known world of usage, written through the real recorder and writer (raw events and rollups): an
/// admin's personal key, developer D with a personal key and application A, developer E with application B, one
/// product. <see cref="WriteAsync"/> records calls relative to <see cref="Now"/>.
/// </summary>
public sealed class UsageSeed
{
    public const string ProductName = "Usage Payments";

    private readonly IServiceProvider _services;

    private UsageSeed(IServiceProvider services) => _services = services;

    public required DateTimeOffset Now { get; init; }
    public required Actor Admin { get; init; }
    public required Guid AdminKey { get; init; }
    public required Actor DeveloperD { get; init; }
    public required Guid DeveloperDKey { get; init; }
    public required ApplicationDto AppA { get; init; }
    public required Guid AppAKey { get; init; }
    public required Actor DeveloperE { get; init; }
    public required ApplicationDto AppB { get; init; }
    public required Guid AppBKey { get; init; }
    public required ProductDto Product { get; init; }

    /// <summary>Makes the users, keys, applications and product (created "now"); no usage yet.</summary>
    public static async Task<UsageSeed> CreateAsync(IServiceProvider services, Actor admin, Func<string, Task<Actor>> newDeveloper)
    {
        var keys = services.GetRequiredService<ApiKeyService>();
        var apps = services.GetRequiredService<ApplicationService>();
        var adminKey = (await keys.CreateAsync(admin, new CreateApiKey { Name = "admin reporting", Scopes = [Scopes.Read] })).Value;
        var d = await newDeveloper("d");
        var dKey = (await keys.CreateAsync(d, new CreateApiKey { Name = "d laptop", Scopes = [Scopes.Read] })).Value;
        var appA = (await apps.CreateAsync(d, new CreateApplication { Name = "App A" })).Value;
        var e = await newDeveloper("e");
        var appB = (await apps.CreateAsync(e, new CreateApplication { Name = "App B" })).Value;
        var product = await services.GetRequiredService<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = ProductName + " " + Guid.NewGuid().ToString("N")[..6], Published = true, RequiresApproval = false,
            Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free }],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);
        return new UsageSeed(services)
        {
            Now = services.GetRequiredService<TimeProvider>().GetUtcNow(),
            Admin = admin, AdminKey = adminKey.Id,
            DeveloperD = d, DeveloperDKey = dKey.Id, AppA = appA.Application, AppAKey = appA.Key.Id,
            DeveloperE = e, AppB = appB.Application, AppBKey = appB.Key.Id,
            Product = product.Value,
        };
    }

    /// <summary>
    /// 12 events: the admin key 3 calls 2 h ago (one 500) and one 3 days ago; D's key 2 calls 1 h ago (one 404); App A
    /// 2 VALID and 1 RATE_LIMITED verifications 30 min ago; App B one VALID and one NOT_SUBSCRIBED; an unknown key's
    /// NOT_FOUND (no key, no rollup; counted in UsageRefusalMinutes, so the request log holds the other 11). In the hour
    /// window: 10 calls by keys, 2 errors, 6 verifications (3 valid).
    /// </summary>
    /// <remarks><paramref name="anchor"/> (default <see cref="Now"/>) is the "now" the times count back from.</remarks>
    public async Task WriteStandardUsageAsync(DateTimeOffset? anchor = null)
    {
        var now = anchor ?? Now;
        var at2h = now.AddHours(-2);
        var at1h = now.AddHours(-1);
        var at30 = now.AddMinutes(-30);
        await WriteAsync(
            Call(at2h, AdminKey, Admin.UserId, "/api/v1/users", 200),
            Call(at2h, AdminKey, Admin.UserId, "/api/v1/users", 200),
            Call(at2h, AdminKey, Admin.UserId, "/api/v1/audit", 500),
            Call(now.AddDays(-3), AdminKey, Admin.UserId, "/api/v1/me", 200),
            Call(at1h, DeveloperDKey, DeveloperD.UserId, "/api/v1/applications", 200),
            Call(at1h, DeveloperDKey, DeveloperD.UserId, "/api/v1/applications/{id:guid}", 404),
            Verify(at30, AppAKey, AppA.Id, VerifyCode.Valid),
            Verify(at30, AppAKey, AppA.Id, VerifyCode.Valid),
            Verify(at30, AppAKey, AppA.Id, VerifyCode.RateLimited),
            Verify(at30, AppBKey, AppB.Id, VerifyCode.Valid),
            Verify(at30, AppBKey, AppB.Id, VerifyCode.NotSubscribed),
            new UsageRecord(at30, null, null, "POST", VerificationService.ApiRoute, 200, 1, Outcome: VerificationService.CodeText(VerifyCode.NotFound)));
    }

    public static UsageRecord Call(DateTimeOffset at, Guid keyId, Guid owner, string route, int status) =>
        new(at, keyId, owner, "GET", route, status, 3);

    public UsageRecord Verify(DateTimeOffset at, Guid keyId, Guid applicationId, VerifyCode code) =>
        new(at, keyId, null, "POST", VerificationService.ApiRoute, 200, 2, applicationId, Product.Id, Product.Plans[0].Id, VerificationService.CodeText(code));

    public async Task WriteAsync(params UsageRecord[] records)
    {
        var recorder = _services.GetRequiredService<UsageRecorder>();
        foreach (var record in records) recorder.Record(record);
        await _services.GetRequiredService<UsageWriter>().DrainAsync();
    }
}
