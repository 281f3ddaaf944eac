using System.Threading.Channels;

namespace Portal.Core.Features.Usage;

/// <summary>
/// What the request path hands over: cheap to make, no database. <paramref name="ApplicationId"/> is set for calls with
/// an application key; <paramref name="ProductId"/>, <paramref name="PlanId"/> and <paramref name="Outcome"/> (the
/// code, <c>VALID</c>, <c>RATE_LIMITED</c>, …) for key verifications.
/// </summary>
public readonly record struct UsageRecord(
    DateTimeOffset At, Guid? KeyId, Guid? OwnerUserId, string Method, string Route, int Status, int LatencyMs,
    Guid? ApplicationId = null, Guid? ProductId = null, Guid? PlanId = null, string? Outcome = null);

/// <summary>
/// The bounded queue between requests and <see cref="UsageWriter"/>. Recording never waits: when the queue is
/// full (the database has fallen far behind) the event is dropped and counted rather than slowing callers.
/// </summary>
public sealed class UsageRecorder
{
    public const int Capacity = 100_000;

    private readonly Channel<UsageRecord> _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
        SingleWriter = false,
    });

    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    internal ChannelReader<UsageRecord> Reader => _channel.Reader;

    public int Queued => _channel.Reader.Count;

    public void Record(UsageRecord record)
    {
        if (!_channel.Writer.TryWrite(record)) Interlocked.Increment(ref _dropped);
    }
}
