using System.Collections.Concurrent;
using Portal.Core.Features.Cluster;

namespace Portal.Core.Features.ApiKeys;

/// <summary>
/// What a successful key check yields: who calls, through which key, with which scopes. For an application key
/// <paramref name="ApplicationId"/> is set and there is no user (<see cref="Guid.Empty"/>, no roles, no scopes).
/// </summary>
public sealed record KeyIdentity(Guid KeyId, Guid UserId, string Email, string DisplayName, IReadOnlyList<string> Roles, IReadOnlyList<string> Scopes, Guid? ApplicationId = null);

/// <summary>
/// Recently verified keys by hash, so a valid call costs no database read in the steady state. Entries live a
/// short time and are dropped at once when a key or its owner changes. A generation counter stops a lookup that
/// started before an invalidation from caching what it read (it may be stale).
/// </summary>
public sealed class ApiKeyCache(TimeProvider clock)
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);
    private const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    /// <param name="ValidUntil">When the key (or, in a grace period, this old secret) stops being valid.</param>
    internal sealed record Entry(string Hash, KeyIdentity Identity, DateTimeOffset? ValidUntil, DateTimeOffset CachedAt);

    public long Generation => Interlocked.Read(ref _generation);

    internal Entry? Find(string hash)
    {
        if (!_entries.TryGetValue(hash, out var entry)) return null;
        if (clock.GetUtcNow() - entry.CachedAt < TimeToLive) return entry;
        _entries.TryRemove(new KeyValuePair<string, Entry>(hash, entry));
        return null;
    }

    internal void Store(Entry entry, long generationAtLookup)
    {
        if (Generation != generationAtLookup) return;
        // A flood of distinct valid keys is unlikely; a crude bound keeps memory finite if it happens.
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[entry.Hash] = entry;
    }

    /// <summary>Raised for each change made on this instance, so <see cref="CacheNotices"/> tells the other instances.</summary>
    public event Action<CacheNotice>? Changed;

    public void InvalidateKey(Guid keyId)
    {
        DropKey(keyId);
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Key, keyId));
    }

    /// <summary>The owner was deactivated, deleted or had roles changed: every one of their keys is looked up again.</summary>
    public void InvalidateOwner(Guid userId)
    {
        DropOwner(userId);
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Owner, userId));
    }

    /// <summary>Another instance changed the key: dropped here, not announced again.</summary>
    public void DropKey(Guid keyId) => RemoveWhere(e => e.Identity.KeyId == keyId);

    /// <summary>Another instance changed the owner: dropped here, not announced again.</summary>
    public void DropOwner(Guid userId) => RemoveWhere(e => e.Identity.UserId == userId);

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    private void RemoveWhere(Func<Entry, bool> match)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (hash, entry) in _entries)
            if (match(entry)) _entries.TryRemove(hash, out _);
    }
}
