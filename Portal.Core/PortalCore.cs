using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Portal.Core.Data;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Cluster;
using Portal.Core.Features.Email;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Products;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Core.Features.Webhooks;
using Microsoft.Extensions.Options;
using Portal.Core.Common;

namespace Portal.Core;

public static class PortalCore
{
    /// <summary>Registers the database and every service. Identity's own services (hasher, normalizer, options) come from the host.</summary>
    public static IServiceCollection AddPortalCore(this IServiceCollection services, string connectionString,
        DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        services.AddSingleton<WakeSignal>();
        services.AddSingleton<WebhookOutbox>();
        if (provider == DatabaseProvider.PostgreSql)
        {
            // The provider's own context type (its own migrations), handed to services as the PortalDbContext it is.
            services.AddDbContextFactory<PostgresPortalDbContext>((sp, db) => db
                .UseNpgsql(connectionString)
                .AddInterceptors(sp.GetRequiredService<WebhookOutbox>(), sp.GetRequiredService<ApiKeyArrivals>(), sp.GetRequiredService<CacheInvalidation>()));
            services.AddSingleton<IDbContextFactory<PortalDbContext>, UpcastDbContextFactory<PostgresPortalDbContext>>();
            services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<PostgresPortalDbContext>());
        }
        else
        {
            services.AddDbContextFactory<PortalDbContext>((sp, db) => db
                .UseSqlite(connectionString, sqlite => sqlite.MigrationsAssembly(typeof(PortalDbContext).Assembly.FullName))
                .AddInterceptors(new SqlitePragmas(), sp.GetRequiredService<WebhookOutbox>(), sp.GetRequiredService<ApiKeyArrivals>(), sp.GetRequiredService<CacheInvalidation>()));
        }
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PasswordPolicy>();
        services.AddSingleton<SignInChanges>();
        services.AddSingleton<IClusterCache>(sp => sp.GetRequiredService<SignInChanges>());
        services.AddSingleton<AttemptCounter>();
        services.AddSingleton<SignInLockout>();
        services.AddSingleton<UserService>();
        services.AddSingleton<OrganisationService>();
        services.AddSingleton<AuditService>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<IClusterCache>(sp => sp.GetRequiredService<ApiKeyCache>());
        services.AddSingleton<ApiKeyArrivals>();
        // Both caches follow what every save and bulk statement changed (both providers' contexts above).
        services.AddSingleton<CacheInvalidation>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<IPersonalAccountStep>(sp => sp.GetRequiredService<AccountService>());
        services.AddSingleton<ApplicationService>();
        services.AddSingleton<SignUpService>();
        services.AddSingleton<ProductService>();
        services.AddSingleton<PlanWhatIfService>();
        services.AddSingleton<Features.Gateway.GatewayRoutes>();
        services.AddSingleton<IClusterCache>(sp => sp.GetRequiredService<Features.Gateway.GatewayRoutes>());
        services.AddSingleton<SubscriptionService>();
        services.AddSingleton<VerificationCache>();
        services.AddSingleton<IClusterCache>(sp => sp.GetRequiredService<VerificationCache>());
        services.AddSingleton<VerificationService>();
        services.AddSingleton<UsageRecorder>();
        services.AddSingleton<UsageWriter>();
        services.AddSingleton<WebhookService>();
        services.AddSingleton<WebhookDispatcher>();
        // No default HTTP client logging: it writes "POST https://host/path" at Information, and receivers put tokens in paths.
        services.AddHttpClient(WebhookDispatcher.HttpClientName, c => c.Timeout = WebhookDispatcher.Timeout)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(sp => WebhookDispatcher.CreateHandler(sp.GetRequiredService<IOptions<PortalOptions>>().Value.Webhooks));
        services.AddSingleton<UsageTopBases>();
        services.AddSingleton<UsageService>();
        services.AddSingleton<Features.Billing.StatementService>();
        services.AddSingleton<Features.Billing.StatementCloser>();
        services.AddPortalEmail(connectionString, provider);
        services.AddSingleton<Features.Profile.ProfileService>();
        services.AddSingleton<Features.Profile.PasswordResetService>();
        services.AddSingleton<Features.Notifications.Notifier>();
        services.AddSingleton<Features.Notifications.KeyExpiryNotices>();
        services.AddSingleton<Features.Quotas.QuotaAlerts>();
        services.AddSingleton<IQuotaWatch>(sp => sp.GetRequiredService<Features.Quotas.QuotaAlerts>());
        services.AddSingleton<Features.Quotas.SubscriptionUsageService>();
        services.AddSingleton<Features.Profile.EmailConfirmationService>();
        services.AddSingleton<Features.Profile.TwoFactorService>();
        services.AddSingleton<DatabaseInitializer>();
        services.AddSingleton<Features.Demo.DemoData>();
        services.AddSingleton<ILookupNormalizer, UpperInvariantLookupNormalizer>();

        // Several instances: limits are counted in Redis when it is configured, in this process otherwise, and cache
        // changes reach the other instances (docs/scale-out.md).
        services.AddSingleton<QuotaCounterStore>();
        services.AddSingleton<Throttle>();
        services.AddSingleton<RedisLimitStore>();
        services.AddSingleton<ILimitStore>(sp => sp.GetRequiredService<PortalRedis>().Configured
            ? sp.GetRequiredService<RedisLimitStore>()
            : sp.GetRequiredService<Throttle>());
        services.AddPortalScaleOut(connectionString, provider);

        services.AddSingleton<IPasswordHasher<PortalUser>, PasswordHasher<PortalUser>>();
        return services;
    }
}
