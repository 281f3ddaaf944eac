using System.Collections.Concurrent;
using Portal.Core.Features.Cluster;

namespace Portal.Core.Features.Users;

/// <summary>
/// Tells whoever keeps a user's session alive that the user's security stamp changed (roles, status, password,
/// deletion; <see cref="Portal.Core.Data.CacheInvalidation"/> sees it in what is saved): the Blazor circuits re-check at once, and a sign-in cookie issued before the change is checked against
/// the stored stamp on its next request instead of at the end of the cookie check's interval. Other instances hear of
/// the change through <see cref="CacheNotices"/> (when there are several); the stored stamp is what survives restarts.
/// </summary>
public sealed class SignInChanges(TimeProvider clock) : IClusterCache
{
    /// <summary>How long a change is remembered: past it, the periodic cookie check has looked at every cookie anyway.</summary>
    public static readonly TimeSpan CookieCheckInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _changedAt = new();

    public event Action<Guid>? StampChanged;

    /// <summary>Raised for each change made on this instance, so <see cref="CacheNotices"/> tells the other instances.</summary>
    public event Action<CacheNotice>? Changed;

    public void Notify(Guid userId)
    {
        Record(userId);
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.SignIn, userId));
    }

    /// <summary>A change made on another instance: acted on here, not announced again.</summary>
    public void Record(Guid userId)
    {
        var now = clock.GetUtcNow();
        foreach (var (user, at) in _changedAt)
            if (now - at > CookieCheckInterval) _changedAt.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(user, at));
        _changedAt[userId] = now;
        StampChanged?.Invoke(userId);
    }

    void IClusterCache.Apply(CacheNotice notice)
    {
        if (notice.Kind == CacheNoticeKind.SignIn) Record(notice.Id);
    }

    // A missed stamp change is caught by the cookie check's interval and the stored stamp; nothing here goes stale.
    void IClusterCache.DropAll()
    {
    }

    /// <summary>
    /// Whether the user's stamp changed at or after <paramref name="issuedUtc"/> (a cookie's issue time, kept to the
    /// second: a change within the same second counts, so the cookie is rather checked once too often than not at all).
    /// </summary>
    public bool ChangedSince(Guid userId, DateTimeOffset? issuedUtc) =>
        _changedAt.TryGetValue(userId, out var at) && clock.GetUtcNow() - at <= CookieCheckInterval
        && (issuedUtc is null || at >= issuedUtc.Value.AddSeconds(-1));
}

/// <summary>The client a sign-in comes from, as the host sees it; the audit entry keeps its user agent.</summary>
public interface ISignInClient
{
    string? UserAgent { get; }
}
