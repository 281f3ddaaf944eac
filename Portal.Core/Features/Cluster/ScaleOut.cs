using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;

namespace Portal.Core.Features.Cluster;

public static class ScaleOut
{
    /// <summary>
    /// With Redis configured, cache notices go through its pub/sub; without it, through PostgreSQL LISTEN/NOTIFY when
    /// that is the database (SQLite: one instance, nothing to tell). Decided once, when first resolved. Where limits
    /// are counted follows <see cref="PortalRedis.Configured"/> too (<c>AddPortalCore</c>).
    /// </summary>
    public static IServiceCollection AddPortalScaleOut(this IServiceCollection services, string connectionString, DatabaseProvider provider)
    {
        services.AddSingleton<PortalRedis>();
        services.AddSingleton<RedisNoticeTransport>();
        services.AddSingleton(sp => new PostgresNoticeTransport(connectionString, sp.GetRequiredService<ILogger<PostgresNoticeTransport>>()));
        services.AddSingleton<INoticeTransport>(sp =>
            sp.GetRequiredService<PortalRedis>().Configured ? sp.GetRequiredService<RedisNoticeTransport>()
            : provider == DatabaseProvider.PostgreSql ? sp.GetRequiredService<PostgresNoticeTransport>()
            : NoTransport.Instance);
        services.AddSingleton<CacheNotices>();
        return services;
    }

    /// <summary>One instance (SQLite without Redis): nobody to tell.</summary>
    private sealed class NoTransport : INoticeTransport
    {
        public static readonly NoTransport Instance = new();

        public Task SendAsync(string message, CancellationToken ct) => Task.CompletedTask;

        public Task ListenAsync(Action<string> heard, Action reconnected, CancellationToken ct) => Task.Delay(Timeout.Infinite, ct);
    }
}
