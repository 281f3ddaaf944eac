using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Portal.Core.Features.Cluster;

/// <summary>
/// The one connection to Redis every instance shares its counters and cache notices through, made on first use.
/// Commands fail at once while Redis is away (no backlog): a verification must not wait seconds for a reconnect.
/// </summary>
public sealed class PortalRedis(IOptions<PortalOptions> options, ILogger<PortalRedis> logger) : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection = new(() => Connect(options.Value.Redis.ConnectionString!, logger));

    public bool Configured => !string.IsNullOrWhiteSpace(options.Value.Redis.ConnectionString);

    public ConnectionMultiplexer Connection => _connection.Value;

    public IDatabase Database => Connection.GetDatabase();

    private static ConnectionMultiplexer Connect(string configuration, ILogger logger)
    {
        var config = ConfigurationOptions.Parse(configuration);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ConnectTimeout = Math.Min(config.ConnectTimeout, 2000);
        config.ClientName ??= "portal";
        var connection = ConnectionMultiplexer.Connect(config);
        connection.ConnectionFailed += (_, e) => logger.LogWarning(e.Exception, "Redis connection lost ({FailureType})", e.FailureType);
        connection.ConnectionRestored += (_, _) => logger.LogInformation("Redis connection restored");
        return connection;
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated) _connection.Value.Dispose();
    }
}
