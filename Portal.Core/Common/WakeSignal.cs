namespace Portal.Core.Common;

/// <summary>
/// Wakes a background loop (the webhook dispatcher, the email outbox's sender) when there is work, instead of waiting
/// for its next poll. Wakes pile up into one.
/// </summary>
public sealed class WakeSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Wake()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already awake.
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
