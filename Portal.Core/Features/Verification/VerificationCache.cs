namespace Portal.Core.Features.Verification;

/// <summary>
/// What verification keeps in memory about products, plans, subscriptions and accounts, so a verification costs no
/// database read in the steady state. Every change to those calls <see cref="Invalidate"/> after it is saved; a
/// lookup that started before an invalidation does not store what it read (the generation moved on).
/// </summary>
public sealed class VerificationCache
{
    private long _generation;

    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Drops everything cached; called after any product, plan, subscription or account status change.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        Invalidated?.Invoke();
    }

    /// <summary>For the verification service's own stores to clear themselves.</summary>
    internal event Action? Invalidated;
}
