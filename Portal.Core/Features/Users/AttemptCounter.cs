using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Portal.Core.Features.Cluster;
using StackExchange.Redis;

namespace Portal.Core.Features.Users;

/// <summary>
/// Counts attempts of one kind by one subject (failed sign-ins of an account from an address, sign-ups of an email) in
/// a window that starts again from every counted attempt: the count ends <c>window</c> after the last one. With Redis
/// configured the count lives there, so every instance sees it; otherwise in this process (one instance, as for the
/// plans' limits). Subjects are hashed: no email or address is kept in clear.
/// </summary>
public sealed class AttemptCounter(PortalRedis redis, TimeProvider clock, ILogger<AttemptCounter> logger)
{
    private const int MaxLocalEntries = 100_000;

    private sealed class Count
    {
        public long Value;
        public DateTimeOffset EndsAt;
    }

    private readonly ConcurrentDictionary<string, Count> _local = new(StringComparer.Ordinal);

    // INCR and the new expiry in one step, so a count never outlives its window nor loses it between two commands.
    private const string AddScript = "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n";

    /// <summary>The attempts counted so far in the subject's current window (0 when it ended).</summary>
    public async ValueTask<long> PeekAsync(string kind, string subject)
    {
        var key = KeyOf(kind, subject);
        if (redis.Configured)
        {
            try
            {
                var value = await redis.Database.StringGetAsync(key);
                return value.HasValue ? (long)value : 0;
            }
            catch (RedisException e)
            {
                Warn(e);
            }
        }
        return _local.TryGetValue(key, out var count) && count.EndsAt > clock.GetUtcNow() ? Volatile.Read(ref count.Value) : 0;
    }

    /// <summary>Counts one attempt and answers the count, this one included; the window now ends <paramref name="window"/> from now.</summary>
    public async ValueTask<long> AddAsync(string kind, string subject, TimeSpan window)
    {
        var key = KeyOf(kind, subject);
        if (redis.Configured)
        {
            try
            {
                return (long)await redis.Database.ScriptEvaluateAsync(AddScript, [key], [(long)window.TotalMilliseconds]);
            }
            catch (RedisException e)
            {
                Warn(e);
            }
        }
        var now = clock.GetUtcNow();
        if (_local.Count >= MaxLocalEntries) Sweep(now);
        var entry = _local.GetOrAdd(key, static _ => new Count());
        lock (entry)
        {
            if (entry.EndsAt <= now) entry.Value = 0;
            entry.EndsAt = now + window;
            return ++entry.Value;
        }
    }

    /// <summary>Forgets the subject's attempts (a successful sign-in).</summary>
    public async ValueTask ResetAsync(string kind, string subject)
    {
        var key = KeyOf(kind, subject);
        if (redis.Configured)
        {
            try
            {
                await redis.Database.KeyDeleteAsync(key);
            }
            catch (RedisException e)
            {
                Warn(e);
            }
        }
        _local.TryRemove(key, out _);
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, count) in _local)
            if (count.EndsAt <= now) _local.TryRemove(key, out _);
        // A flood of distinct subjects within one window: a crude bound keeps memory finite.
        if (_local.Count >= MaxLocalEntries) _local.Clear();
    }

    private static string KeyOf(string kind, string subject) =>
        $"portal:attempts:{kind}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)))}";

    // While Redis is away the count is kept here: limits then hold per instance rather than not at all.
    private void Warn(RedisException e) => logger.LogWarning(e, "Redis did not answer; attempts are counted in this instance meanwhile");
}
