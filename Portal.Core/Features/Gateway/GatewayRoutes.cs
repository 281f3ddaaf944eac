using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Data;
using Portal.Core.Features.Cluster;

namespace Portal.Core.Features.Gateway;

/// <summary>One product as the gateway forwards to it. <see cref="CredentialValue"/> is decrypted, so this never leaves the process.</summary>
public sealed record GatewayRoute(
    Guid ProductId,
    string Slug,
    bool Published,
    Uri Upstream,
    TimeSpan Timeout,
    long MaxRequestBodyBytes,
    string? CredentialHeader,
    string? CredentialValue);

/// <summary>
/// The gateway's routes: every product with an upstream URL, by slug, read from the database in one query and kept
/// in memory until <see cref="Reload"/> (<see cref="CacheInvalidation"/> calls it once a save that changes a route has
/// committed; a broadcast from another instance drops the routes too) or, as a backstop, for <see cref="TimeToLive"/>.
/// </summary>
public sealed class GatewayRoutes(
    IDbContextFactory<PortalDbContext> dbFactory,
    IUpstreamCredentialProtector credentials,
    TimeProvider clock,
    ILogger<GatewayRoutes> logger) : IClusterCache
{
    public static readonly TimeSpan TimeToLive = TimeSpan.FromMinutes(5);

    private sealed record Table(FrozenDictionary<string, GatewayRoute> Routes, long Version, DateTimeOffset LoadedAt);

    private Table? _table;
    private long _version;
    private readonly SemaphoreSlim _loading = new(1, 1);

    /// <summary>
    /// Forgets the routes after a product change made here: the next call reads them again, and the other instances
    /// are told (<see cref="Changed"/>). Cheap; safe from any thread.
    /// </summary>
    public void Reload()
    {
        Drop();
        Changed?.Invoke(new CacheNotice(CacheNoticeKind.Gateway, Guid.Empty));
    }

    /// <summary>Raised for each change made on this instance, so <see cref="CacheNotices"/> tells the other instances.</summary>
    public event Action<CacheNotice>? Changed;

    void IClusterCache.Apply(CacheNotice notice)
    {
        if (notice.Kind == CacheNoticeKind.Gateway) Drop();
    }

    void IClusterCache.DropAll() => Drop();

    /// <summary>Forgets the routes because another instance changed a product.</summary>
    public void Drop()
    {
        Interlocked.Increment(ref _version);
        Volatile.Write(ref _table, null);
    }

    /// <summary>The product's route by slug (case-insensitive), or null when no product with an upstream has it.</summary>
    public ValueTask<GatewayRoute?> FindAsync(string slug, CancellationToken ct = default)
    {
        var table = Volatile.Read(ref _table);
        if (table is not null && clock.GetUtcNow() - table.LoadedAt < TimeToLive)
            return new ValueTask<GatewayRoute?>(table.Routes.GetValueOrDefault(slug));
        return LoadThenFindAsync(slug, ct);
    }

    private async ValueTask<GatewayRoute?> LoadThenFindAsync(string slug, CancellationToken ct)
    {
        await _loading.WaitAsync(ct);
        try
        {
            var table = Volatile.Read(ref _table);
            if (table is null || clock.GetUtcNow() - table.LoadedAt >= TimeToLive)
            {
                var version = Interlocked.Read(ref _version);
                table = await LoadAsync(version, ct);
                // A reload asked for while reading: what was read may be stale, so it serves this call only.
                if (Interlocked.Read(ref _version) == version) Volatile.Write(ref _table, table);
            }
            return table.Routes.GetValueOrDefault(slug);
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<Table> LoadAsync(long version, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Products.AsNoTracking().Where(p => p.UpstreamUrl != null)
            .Select(p => new { p.Id, p.Slug, p.Published, p.UpstreamUrl, p.UpstreamTimeoutSeconds, p.MaxRequestBodyBytes, p.UpstreamCredentialHeader, p.UpstreamCredentialProtected })
            .ToListAsync(ct);
        var routes = new Dictionary<string, GatewayRoute>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in rows)
        {
            if (!Uri.TryCreate(p.UpstreamUrl, UriKind.Absolute, out var upstream)) continue;
            string? value = null;
            if (p.UpstreamCredentialProtected is { } protectedValue)
            {
                try
                {
                    value = credentials.Unprotect(protectedValue);
                }
                catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException)
                {
                    // A key ring lost or replaced: the product is served without its credential, and the upstream refuses.
                    logger.LogError(e, "The upstream credential of product {Slug} cannot be decrypted; set it again", p.Slug);
                }
            }
            routes[p.Slug] = new GatewayRoute(p.Id, p.Slug, p.Published, upstream, TimeSpan.FromSeconds(p.UpstreamTimeoutSeconds),
                p.MaxRequestBodyBytes, value is null ? null : p.UpstreamCredentialHeader, value);
        }
        return new Table(routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), version, clock.GetUtcNow());
    }
}
