using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Common;

namespace Portal.Core.Features.Usage;

/// <summary>
/// What the request path hands over: cheap to make, no database. <paramref name="ApplicationId"/> is set for calls with
/// an application key; <paramref name="ProductId"/>, <paramref name="PlanId"/> and <paramref name="Outcome"/> (the
/// code, <c>VALID</c>, <c>RATE_LIMITED</c>, …) for key verifications and gateway calls; the rest for gateway calls.
/// <paramref name="CallerKeyId"/>: for a verification, the key that asked.
/// <paramref name="Origin"/> and <paramref name="Limit"/> are references the caller already holds: formatting and
/// truncating them is the writer's work, off the request path.
/// </summary>
public readonly record struct UsageRecord(
    DateTimeOffset At, Guid? KeyId, Guid? OwnerUserId, string Method, string Route, int Status, int LatencyMs,
    Guid? ApplicationId = null, Guid? ProductId = null, Guid? PlanId = null, string? Outcome = null,
    UsageSource Source = UsageSource.Api, Guid? AccountId = null, string? Path = null,
    long? RequestBytes = null, long? ResponseBytes = null, int? UpstreamLatencyMs = null, Guid? CallerKeyId = null,
    RequestOrigin Origin = default, LimitState? Limit = null)
{
    /// <summary>
    /// A verification (or gateway call) of a key that was not found at all: counted per caller and minute
    /// (<see cref="UsageRefusalMinute"/>) and in the rollups, without a raw event of its own.
    /// </summary>
    public bool IsUnknownKeyRefusal => KeyId is null && Outcome == VerifyOutcomes.NotFound;
}

/// <summary>
/// The <see cref="UsageRecord.Outcome"/> texts of key verifications and gateway calls, as the verification API spells
/// its codes: the usage log keeps them as text, and the usage figures count by them.
/// </summary>
public static class VerifyOutcomes
{
    public const string Valid = "VALID";
    public const string NotFound = "NOT_FOUND";
    public const string Revoked = "REVOKED";
    public const string Expired = "EXPIRED";
    public const string Disabled = "DISABLED";
    public const string NotSubscribed = "NOT_SUBSCRIBED";
    public const string RateLimited = "RATE_LIMITED";
    public const string QuotaExceeded = "QUOTA_EXCEEDED";
}

/// <summary>Who called, as the connection and its <c>User-Agent</c> header tell: kept with the call in the request log.</summary>
public readonly record struct RequestOrigin(IPAddress? Address, string? UserAgent);

/// <summary>
/// The bounded queue between requests and <see cref="UsageWriter"/>. Recording never waits and takes no lock: when
/// the queue is full (the database has fallen far behind) the event is dropped rather than slowing callers, and never
/// silently: it is counted (<see cref="Dropped"/>, on <c>/healthz</c> and the Usage page) and logged as a warning, at
/// most once per <see cref="WarningInterval"/>.
/// </summary>
/// <remarks>
/// An unbounded single-reader channel is a lock-free queue for its writers; a bounded channel takes a lock on every
/// write and read, and on two busy cores a request thread preempted while holding it stalls every other request
/// that records usage. The bound is kept here with a counter instead.
/// </remarks>
public sealed class UsageRecorder(ILogger<UsageRecorder>? logger = null)
{
    public const int Capacity = 100_000;

    public static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger = logger ?? NullLogger<UsageRecorder>.Instance;

    /// <summary>When the last drop warning was logged (<see cref="Environment.TickCount64"/>); far in the past at first.</summary>
    private long _warnedAt = long.MinValue / 2;

    private readonly Channel<UsageRecord> _channel = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = false,
    });

    private int _queued;
    private long _dropped;

    /// <summary>Usage events lost since start: not queued because the queue was full, or in a batch the database refused.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public int Queued => Volatile.Read(ref _queued);

    public void Record(UsageRecord record)
    {
        if (Interlocked.Increment(ref _queued) > Capacity)
        {
            Interlocked.Decrement(ref _queued);
            var dropped = Interlocked.Increment(ref _dropped);
            WarnOfDrops(dropped);
            return;
        }
        _channel.Writer.TryWrite(record);
    }

    private void WarnOfDrops(long dropped)
    {
        var now = Environment.TickCount64;
        var warnedAt = Volatile.Read(ref _warnedAt);
        // One caller per interval wins the exchange and logs; the others only count.
        if (now - warnedAt < (long)WarningInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _warnedAt, now, warnedAt) != warnedAt) return;
        _logger.LogWarning("The usage queue is full ({Capacity} events): usage events are being dropped, {Dropped} since start. " +
                           "The database does not keep up with the usage writer.", Capacity, dropped);
    }

    /// <summary>Counts events taken from the queue that could not be written (a batch the database refused): lost too.</summary>
    internal void CountLost(int count) => Interlocked.Add(ref _dropped, count);

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
