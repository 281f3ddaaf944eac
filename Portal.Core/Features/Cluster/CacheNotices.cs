using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Portal.Core.Features.Cluster;

/// <summary>
/// What another instance must drop: a key, the keys of a holder (user, application or account; <c>Owner</c> on the
/// wire), all of verification's cache, a user's sign-ins, the gateway's routes, or every key.
/// </summary>
public enum CacheNoticeKind
{
    Key,
    Owner,
    Verification,
    SignIn,
    Gateway,
    AllKeys,
}

/// <summary>
/// One change to announce. Only ids travel (never a secret, hash or name): the receiver drops what it holds and
/// reads the truth from the database again.
/// </summary>
public readonly record struct CacheNotice(CacheNoticeKind Kind, Guid Id)
{
    public string Format(Guid origin) => $"{origin:N} {Kind} {Id:N}";

    public static bool TryParse(string? text, out Guid origin, out CacheNotice notice)
    {
        (origin, notice) = (default, default);
        var parts = text?.Split(' ');
        if (parts is not { Length: 3 } || !Guid.TryParseExact(parts[0], "N", out origin)
            || !Enum.TryParse<CacheNoticeKind>(parts[1], out var kind) || !Guid.TryParseExact(parts[2], "N", out var id)) return false;
        notice = new CacheNotice(kind, id);
        return true;
    }
}

/// <summary>
/// Something one instance keeps in memory that the others must hear about when it changes here: registered in the
/// container as <see cref="IClusterCache"/> too, so <see cref="CacheNotices"/> reaches every cache without naming one.
/// </summary>
public interface IClusterCache
{
    /// <summary>Raised for each change made on this instance, so <see cref="CacheNotices"/> tells the other instances.</summary>
    event Action<CacheNotice>? Changed;

    /// <summary>Another instance changed something: drops here what the notice names (if it is this cache's kind), not announced again.</summary>
    void Apply(CacheNotice notice);

    /// <summary>Notices may have been missed (a reconnect): drops whatever could be stale.</summary>
    void DropAll();
}

/// <summary>How notices travel between instances: Redis pub/sub or PostgreSQL LISTEN/NOTIFY.</summary>
public interface INoticeTransport
{
    Task SendAsync(string message, CancellationToken ct);

    /// <summary>
    /// Delivers every message heard to <paramref name="heard"/> until cancelled, reconnecting as needed; calls
    /// <paramref name="reconnected"/> after a reconnect, since messages may have been missed meanwhile.
    /// </summary>
    Task ListenAsync(Action<string> heard, Action reconnected, CancellationToken ct);
}

/// <summary>
/// Tells every other instance what a change on this one made stale (a revoked key, an unsubscribed application, a
/// demoted user), within a second: changes announce themselves through the caches' <c>Changed</c> events, travel
/// through the transport, and are dropped on the other side. After a reconnect everything cached is dropped.
/// </summary>
public sealed class CacheNotices(
    IEnumerable<IClusterCache> caches,
    INoticeTransport transport,
    ILogger<CacheNotices> logger)
{
    private readonly IClusterCache[] _caches = [.. caches];
    private readonly Channel<CacheNotice> _outgoing = Channel.CreateUnbounded<CacheNotice>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>This instance, so it ignores its own messages.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>Notices heard from other instances (for tests and diagnostics).</summary>
    public long Heard => Interlocked.Read(ref _heard);

    private long _heard;

    public async Task RunAsync(CancellationToken ct)
    {
        foreach (var cache in _caches) cache.Changed += Enqueue;
        try
        {
            await Task.WhenAll(SendAsync(ct), transport.ListenAsync(OnHeard, DropAll, ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var cache in _caches) cache.Changed -= Enqueue;
        }
    }

    private void Enqueue(CacheNotice notice) => _outgoing.Writer.TryWrite(notice);

    private async Task SendAsync(CancellationToken ct)
    {
        await foreach (var notice in _outgoing.Reader.ReadAllAsync(ct))
        {
            var message = notice.Format(InstanceId);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await transport.SendAsync(message, ct);
                    break;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The other instances' caches heal by their time to live (30 s keys, 5 min verification) if this never gets through.
                    if (attempt == 3)
                    {
                        logger.LogError(e, "Could not announce a {Kind} change to the other instances", notice.Kind);
                        break;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), ct);
                }
            }
        }
    }

    private void OnHeard(string message)
    {
        if (!CacheNotice.TryParse(message, out var origin, out var notice))
        {
            logger.LogWarning("Ignored a cache notice that does not parse");
            return;
        }
        if (origin == InstanceId) return;
        Interlocked.Increment(ref _heard);
        Apply(notice);
    }

    /// <summary>Drops here what the notice names.</summary>
    public void Apply(CacheNotice notice)
    {
        foreach (var cache in _caches) cache.Apply(notice);
    }

    private void DropAll()
    {
        logger.LogInformation("Cache notices reconnected: dropping every cached key and verification entry");
        foreach (var cache in _caches) cache.DropAll();
    }
}
