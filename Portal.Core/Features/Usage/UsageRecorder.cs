using System.Threading.Channels;

namespace Portal.Core.Features.Usage;

/// <summary>
/// What the request path hands over: cheap to make, no database. <paramref name="ApplicationId"/> is set for calls with
/// an application key; <paramref name="ProductId"/>, <paramref name="PlanId"/> and <paramref name="Outcome"/> (the
/// code, <c>VALID</c>, <c>RATE_LIMITED</c>, …) for key verifications and gateway calls; the rest for gateway calls.
/// </summary>
public readonly record struct UsageRecord(
    DateTimeOffset At, Guid? KeyId, Guid? OwnerUserId, string Method, string Route, int Status, int LatencyMs,
    Guid? ApplicationId = null, Guid? ProductId = null, Guid? PlanId = null, string? Outcome = null,
    UsageSource Source = UsageSource.Api, Guid? AccountId = null, string? Path = null,
    long? RequestBytes = null, long? ResponseBytes = null, int? UpstreamLatencyMs = null);

/// <summary>
/// The bounded queue between requests and <see cref="UsageWriter"/>. Recording never waits and takes no lock: when
/// the queue is full (the database has fallen far behind) the event is dropped and counted rather than slowing callers.
/// </summary>
/// <remarks>
/// An unbounded single-reader channel is a lock-free queue for its writers; a bounded channel takes a lock on every
/// write and read, and on two busy cores a request thread preempted while holding it stalls every other request
/// that records usage. The bound is kept here with a counter instead.
/// </remarks>
public sealed class UsageRecorder
{
    public const int Capacity = 100_000;

    private readonly Channel<UsageRecord> _channel = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
    });

    private int _queued;
    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public int Queued => Volatile.Read(ref _queued);

    public void Record(UsageRecord record)
    {
        if (Interlocked.Increment(ref _queued) > Capacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }
        _channel.Writer.TryWrite(record);
    }

    /// <summary>Completes when something is queued (true) or the token is cancelled.</summary>
    internal ValueTask<bool> WaitToReadAsync(CancellationToken ct) => _channel.Reader.WaitToReadAsync(ct);

    /// <summary>Takes the oldest queued event, if any. One reader at a time (the writer's lock sees to it).</summary>
    internal bool TryTake(out UsageRecord record)
    {
        if (!_channel.Reader.TryRead(out record)) return false;
        Interlocked.Decrement(ref _queued);
        return true;
    }
}
