using Microsoft.Extensions.Logging;

namespace Portal.Core.Features.Billing;

/// <summary>
/// Freezes each month shortly after it ends (<see cref="StatementService.CloseDelay"/>): stores every account's
/// statement of the last closed month. Runs on every instance; storing is insert-if-absent on a unique
/// (account, month, revision), so two instances closing at once store each statement once. A month that closed while
/// no instance ran is closed on the next start (and any closed month read before that is stored by the read).
/// </summary>
public sealed class StatementCloser(StatementService statements, TimeProvider clock, ILogger<StatementCloser> logger)
{
    /// <summary>How often an instance looks whether a month closed: the delay before a closed month is stored at the latest.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        DateTimeOffset? closed = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var last = LastClosedMonth(clock.GetUtcNow());
            if (closed != last)
            {
                try
                {
                    await statements.CloseMonthAsync(last, stoppingToken);
                    closed = last;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "Storing the statements of {Month} failed; trying again in {Interval}", BillingMonth.Name(last), Interval);
                }
            }
            try
            {
                await Task.Delay(Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The latest month that is closed at <paramref name="now"/>.</summary>
    public static DateTimeOffset LastClosedMonth(DateTimeOffset now) =>
        BillableUsage.MonthStart(now - StatementService.CloseDelay).AddMonths(-1);
}
