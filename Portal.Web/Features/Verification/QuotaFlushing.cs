using Portal.Core.Features.Verification;

namespace Portal.Web.Features.Verification;

/// <summary>
/// Adds counted quota use to the database every 100 ms (write-behind: a crash loses at most that much, and near the
/// end of a quota nothing, see <see cref="Throttle"/>) and sweeps rate-limit windows that ended; on shutdown saves
/// once more, so a restart loses no counted call.
/// </summary>
public sealed class QuotaFlushingService(ILimitStore limits, ILogger<QuotaFlushingService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await limits.FlushAsync(stoppingToken);
                    limits.Sweep();
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Saving quota counters failed; retrying in {Interval}", Interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: StopAsync saves what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await limits.FlushAsync(CancellationToken.None);
        await limits.ReleaseAsync();
    }
}
