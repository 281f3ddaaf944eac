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
/// short time and are dropped at once when a key or its holder changes: <see cref="Portal.Core.Data.CacheInvalidation"/>
/// calls the <c>Invalidate…</c> methods from what each save changed, once it has committed. A generation counter stops
/// a lookup that started before an invalidation from caching what it read (it may be stale).
/// </summary>
public sealed class ApiKeyCache(TimeProvider clock) : IClusterCache
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromSeconds(30);
    private const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    /// <param name="ValidUntil">When the key (or, in a grace period, this old secret) stops being valid.</param>
    /// <param name="AccountId">For an application key, the account whose status decides whether it works.</param>
    internal sealed record Entry(string Hash, KeyIdentity Identity, DateTimeOffset? ValidUntil, DateTimeOffset CachedAt, Guid? AccountId = null);

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

    internal void InvalidateKey(Guid keyId)
    {
        DropKey(keyId);
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Key, keyId));
    }

    /// <summary>
    /// A user, application or account whose keys' identities changed (deactivated, deleted, roles changed, suspended,
    /// renamed): every one of the keys it holds is looked up again.
    /// </summary>
    internal void InvalidateHolder(Guid holderId)
    {
        DropHolder(holderId);
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Owner, holderId));
    }

    /// <summary>A change whose keys are unknown (a bulk statement): every key is looked up again.</summary>
    internal void InvalidateAll()
    {
        Clear();
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.AllKeys, Guid.Empty));
    }

    /// <summary>
    /// Another instance changed the key: dropped here, not announced again. Its new secret (a regeneration) is not
    /// named by the notice, so every remembered miss goes too.
    /// </summary>
    public void DropKey(Guid keyId)
    {
        RemoveWhere(e => e.Identity.KeyId == keyId);
        ForgetAllMissing();
    }

    /// <summary>Another instance changed a key holder (user, application or account): dropped here, not announced again.</summary>
    void IClusterCache.Apply(CacheNotice notice)
    {
        switch (notice.Kind)
        {
            case CacheNoticeKind.Key: DropKey(notice.Id); break;
            case CacheNoticeKind.Owner: DropHolder(notice.Id); break;
            case CacheNoticeKind.AllKeys: Clear(); break;
        }
    }

    void IClusterCache.DropAll() => Clear();

    public void DropHolder(Guid holderId)
    {
        // Guid.Empty is the "user" of every application key, never a holder.
        if (holderId == Guid.Empty) return;
        RemoveWhere(e => e.Identity.UserId == holderId || e.Identity.ApplicationId == holderId || e.AccountId == holderId);
    }

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
        ForgetAllMissing();
    }

    /// <summary>How long a key found nowhere is answered "not found" without asking the database again.</summary>
    public static readonly TimeSpan MissingTimeToLive = TimeSpan.FromSeconds(30);

    private const int MissingSlots = 16_384;

    /// <summary>A hash found nowhere, and until when that answer is reused (UTC ticks).</summary>
    private sealed record Missing(string Hash, long Until);

    // A fixed table indexed by the hash's first hex digits, each slot overwritten by the latest miss: bounded memory
    // (a flood of random keys only overwrites slots), no lock, and a hit is one array read and one comparison.
    private Missing?[] _missing = new Missing?[MissingSlots];
    private long _missingGeneration;

    public long MissingGeneration => Interlocked.Read(ref _missingGeneration);

    /// <summary>Whether the hash was recently found nowhere: a flood of unknown keys then costs no database read.</summary>
    internal bool IsKnownMissing(string hash)
    {
        var entry = Volatile.Read(ref _missing)[SlotOf(hash)];
        return entry is not null && entry.Until > clock.GetUtcNow().UtcTicks && string.Equals(entry.Hash, hash, StringComparison.Ordinal);
    }

    /// <summary>Remembers a miss, unless a key was created since the lookup began (it may be this very one).</summary>
    internal void NoteMissing(string hash, long missingGenerationAtLookup)
    {
        if (MissingGeneration != missingGenerationAtLookup) return;
        Volatile.Read(ref _missing)[SlotOf(hash)] = new Missing(hash, (clock.GetUtcNow() + MissingTimeToLive).UtcTicks);
    }

    /// <summary>A key with this hash now exists (created or regenerated here): never answer it "not found" from memory.</summary>
    public void ForgetMissing(string hash)
    {
        Interlocked.Increment(ref _missingGeneration);
        var table = Volatile.Read(ref _missing);
        var slot = SlotOf(hash);
        if (table[slot] is { } entry && string.Equals(entry.Hash, hash, StringComparison.Ordinal)) table[slot] = null;
    }

    /// <summary>Forgets every miss: another instance changed keys (notices carry ids, not hashes), or the notices reconnected.</summary>
    public void ForgetAllMissing()
    {
        Interlocked.Increment(ref _missingGeneration);
        Volatile.Write(ref _missing, new Missing?[MissingSlots]);
    }

    private static int SlotOf(string hash) =>
        hash.Length >= 4 ? int.Parse(hash.AsSpan(0, 4), System.Globalization.NumberStyles.HexNumber) % MissingSlots : 0;

    private void RemoveWhere(Func<Entry, bool> match)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (hash, entry) in _entries)
            if (match(entry)) _entries.TryRemove(hash, out _);
    }
}
