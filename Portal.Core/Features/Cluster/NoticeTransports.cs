using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Portal.Core.Features.Cluster;

/// <summary>Cache notices through Redis pub/sub (when Redis is configured).</summary>
public sealed class RedisNoticeTransport(PortalRedis redis, ILogger<RedisNoticeTransport> logger) : INoticeTransport
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("portal:cache");

    public async Task SendAsync(string message, CancellationToken ct) =>
        await redis.Connection.GetSubscriber().PublishAsync(Channel, message);

    public async Task ListenAsync(Action<string> heard, Action reconnected, CancellationToken ct)
    {
        var connection = redis.Connection;
        // The multiplexer subscribes again by itself after a reconnect; what was published meanwhile is lost.
        EventHandler<ConnectionFailedEventArgs> restored = (_, e) =>
        {
            if (e.ConnectionType == ConnectionType.Subscription) reconnected();
        };
        connection.ConnectionRestored += restored;
        try
        {
            while (true)
            {
                try
                {
                    await connection.GetSubscriber().SubscribeAsync(Channel, (_, message) => heard(message.ToString()));
                    break;
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    logger.LogWarning(e, "Could not subscribe to cache notices in Redis; retrying");
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            }
            await Task.Delay(Timeout.Infinite, ct);
        }
        finally
        {
            connection.ConnectionRestored -= restored;
            try
            {
                await connection.GetSubscriber().UnsubscribeAsync(Channel);
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Shutting down anyway.
            }
        }
    }
}

/// <summary>
/// Cache notices through PostgreSQL <c>LISTEN/NOTIFY</c> (PostgreSQL without Redis): one connection of its own
/// listens, checked every few seconds and opened again when it breaks; a notice is sent from a pooled connection.
/// </summary>
public sealed class PostgresNoticeTransport(string connectionString, ILogger<PostgresNoticeTransport> logger) : INoticeTransport
{
    public const string Channel = "portal_cache";

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    public async Task SendAsync(string message, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @message)", connection);
        command.Parameters.AddWithValue("channel", Channel);
        command.Parameters.AddWithValue("message", message);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task ListenAsync(Action<string> heard, Action reconnected, CancellationToken ct)
    {
        var listening = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "portal-cache-notices" }.ConnectionString;
        var first = true;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(listening);
                await connection.OpenAsync(ct);
                connection.Notification += (_, e) => heard(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                if (!first) reconnected();
                first = false;
                while (true)
                {
                    // No notification for a while: a round trip proves the connection is still there.
                    if (await connection.WaitAsync(CheckEvery, ct)) continue;
                    await using var ping = new NpgsqlCommand("SELECT 1", connection);
                    await ping.ExecuteScalarAsync(ct);
                }
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(e, "Listening for cache notices in PostgreSQL failed; reconnecting");
                first = false;
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }
}
