using System.Collections.Concurrent;
using Portal.Core.Features.Applications;

namespace Portal.Web.Features.Applications;

/// <summary>
/// Carries the key issued at sign-up from the sign-up form (a static page that ends in a redirect) to the first
/// interactive render of My Applications, which shows it once. The secret stays in this process's memory: never in a
/// URL, a cookie or a log line. It is taken on the first read and forgotten after <see cref="Lifetime"/> if never read.
/// </summary>
public sealed class FirstKeyHandoff(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<Guid, (ApplicationKeyIssued Key, DateTimeOffset Expires)> _keys = new();

    public void Give(Guid userId, ApplicationKeyIssued key)
    {
        var now = clock.GetUtcNow();
        foreach (var (id, held) in _keys)
            if (held.Expires <= now) _keys.TryRemove(new(id, held));
        _keys[userId] = (key, now + Lifetime);
    }

    /// <summary>The key held for <paramref name="userId"/>, once: a second call (or one after expiry) answers null.</summary>
    public ApplicationKeyIssued? Take(Guid userId) =>
        _keys.TryRemove(userId, out var held) && held.Expires > clock.GetUtcNow() ? held.Key : null;
}
