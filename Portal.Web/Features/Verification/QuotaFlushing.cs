using Portal.Core.Features.Verification;

namespace Portal.Web.Features.Verification;

/// <summary>
/// Saves quota counters every second (write-behind) and sweeps rate-limit windows that ended; on shutdown saves
/// once more, so a restart loses no counted call.
/// </summary>
public sealed class QuotaFlushingService(QuotaCounterStore quotas, Throttle throttle, ILogger<QuotaFlushingService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await quotas.FlushAsync(stoppingToken);
                    throttle.Sweep();
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
        await quotas.FlushAsync(CancellationToken.None);
    }
}
