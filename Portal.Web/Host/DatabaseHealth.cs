using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Host;

/// <summary>
/// Asks the database at most once a second: load balancers poll health often, and the answer should say whether
/// the database answers, not add load to it.
/// </summary>
public sealed class DatabaseHealth(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _checking = new(1, 1);
    private (bool Healthy, DateTimeOffset At)? _last;

    public async Task<bool> IsHealthyAsync(CancellationToken ct)
    {
        if (_last is { } fresh && clock.GetUtcNow() - fresh.At < MaxAge) return fresh.Healthy;
        await _checking.WaitAsync(ct);
        try
        {
            if (_last is { } again && clock.GetUtcNow() - again.At < MaxAge) return again.Healthy;
            bool healthy;
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                healthy = await db.Database.CanConnectAsync(ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                healthy = false;
            }
            _last = (healthy, clock.GetUtcNow());
            return healthy;
        }
        finally
        {
            _checking.Release();
        }
    }
}
