using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The closed part of each standard window's top lists, computed in the background and kept in memory: for the last 24
/// hours the 23 whole hours before the current one, for the last 7 and 30 days the whole days before today (the
/// overview's periods and the summary's default). A summary of such a window reads the precomputed part as one bucket
/// and only the current hour or day from the rollups (<see cref="UsageTop"/>): a flat distribution (a million keys
/// with a few calls each) proves its top from two buckets where thirty never do, and a small current bucket is read
/// whole, so the top lists of these windows are exact in practice (not in the seconds before a new part is computed).
/// <para>
/// A part is only used while it is still true: rollups only grow, so the portal-wide calls and verifications of its
/// hours (<see cref="UsageHour"/>, <see cref="UsageOutcomeHour"/>, a few hundred rows) unchanged since it was computed
/// mean no row of it changed. A late write (a batch flushed just after midnight) changes them, and the part is computed
/// again on the next pass; meanwhile the summary does without it. Each instance computes its own: a grouped read of
/// the window once per hour or day, off the request path.
/// </para>
/// </summary>
public sealed class UsageTopBases(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, ILogger<UsageTopBases>? logger = null)
{
    /// <summary>How often <see cref="RunAsync"/> looks for parts to compute (a new hour or day, a late write).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly ILogger _logger = logger ?? NullLogger<UsageTopBases>.Instance;

    private sealed record Entry(UsageTop.Base Base, Checksum Checksum);

    private readonly record struct Checksum(long Calls, long Verifications);

    private readonly ConcurrentDictionary<(UsageTop.Source, DateTimeOffset From), Entry> _entries = new();

    /// <summary>
    /// The standard windows at <paramref name="now"/> as [from, closed part's end): the overview's 24 hours (the current
    /// hour and the 23 before), 7 and 30 days (today and the days before).
    /// </summary>
    public static IEnumerable<(UsageSpan Span, DateTimeOffset From, DateTimeOffset Until)> WindowsAt(DateTimeOffset now)
    {
        var hour = UsageBuckets.Align(now, TimeSpan.FromHours(1));
        var today = UsageBuckets.Align(now, TimeSpan.FromDays(1));
        yield return (UsageSpan.Hour, hour.AddHours(-23), hour);
        yield return (UsageSpan.Day, today.AddDays(1 - UsageService.DefaultDays), today);
        yield return (UsageSpan.Day, today.AddDays(-29), today);
    }

    private static IEnumerable<UsageTop.Source> SourcesOf(UsageSpan span) => span == UsageSpan.Hour
        ? [UsageTop.KeyHours, UsageTop.Applications(span), UsageTop.Products(span)]
        : [UsageTop.KeyDays, UsageTop.Applications(span), UsageTop.Products(span)];

    /// <summary>The precomputed part of a window starting at <paramref name="from"/>, if there is one and it is still true.</summary>
    internal async Task<UsageTop.Base?> FindAsync(PortalDbContext db, UsageTop.Source source, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        if (!_entries.TryGetValue((source, from), out var entry) || entry.Base.Until > to || entry.Base.Until <= from) return null;
        if (await ChecksumAsync(db, from, entry.Base.Until, ct) != entry.Checksum) return null;
        // Every row of the tail counts at least one call (keys, applications) or verification (products).
        var tail = await ChecksumAsync(db, entry.Base.Until, to, ct);
        return entry.Base with { TailRows = Math.Max(tail.Calls, tail.Verifications) };
    }

    /// <summary>Computes every standard window's part that is missing or no longer true; drops those of past windows. Answers how many it computed.</summary>
    public async Task<int> RefreshAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var wanted = WindowsAt(now).SelectMany(w => SourcesOf(w.Span).Select(s => (Source: s, w.From, w.Until))).ToList();
        foreach (var key in _entries.Keys)
            if (!wanted.Any(w => w.Source == key.Item1 && w.From == key.From))
                _entries.TryRemove(key, out _);
        var computed = 0;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var (source, from, until) in wanted)
        {
            if (until <= from) continue;
            if (_entries.TryGetValue((source, from), out var entry) && entry.Base.Until == until
                && await ChecksumAsync(db, from, until, ct) == entry.Checksum) continue;
            _entries[(source, from)] = await ComputeAsync(db, source, from, until, ct);
            computed++;
        }
        return computed;
    }

    /// <summary>Runs <see cref="RefreshAsync"/> every <see cref="Interval"/> until stopped; a failed pass is logged and tried again.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogWarning(e, "Could not compute the usage top lists' standard windows; trying again in {Interval}", Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Every id's total over [<paramref name="from"/>, <paramref name="until"/>), summed here from one read of the
    /// window's rows, with the checksum read first: a write in between makes the checksum stale (sums only grow), so the
    /// part is never used and is computed again. No transaction, so nothing of this long read holds up the usage writer.
    /// </summary>
    private static async Task<Entry> ComputeAsync(PortalDbContext db, UsageTop.Source source, DateTimeOffset from, DateTimeOffset until, CancellationToken ct)
    {
        var checksum = await ChecksumAsync(db, from, until, ct);
        var totals = new Dictionary<Guid, long>();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = $"SELECT \"{source.Id}\", \"{source.Count}\" FROM \"{source.Table}\" WHERE {UsageTop.SpanFilter(source)}" +
                                  $"\"{source.Bucket}\" >= @from AND \"{source.Bucket}\" < @to";
            UsageTop.Add(db, command, "from", from);
            UsageTop.Add(db, command, "to", until);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var id = UsageTop.IdOf(reader, 0);
                totals[id] = totals.GetValueOrDefault(id) + Convert.ToInt64(reader.GetValue(1));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        // Only as many as a summary can ask for (its K never passes the row budget); the rest are bounded by the next.
        var ordered = UsageTop.Ordered(totals.Select(t => (t.Key, t.Value)));
        var keep = UsageTop.Limits.Default.RowBudget;
        var top = ordered.Count > keep ? ordered.GetRange(0, keep) : ordered;
        var rest = ordered.Count > keep ? ordered[keep].Calls : 0;
        return new Entry(new UsageTop.Base(source, from, until, top, rest), checksum);
    }

    /// <summary>The portal-wide calls and verifications of [<paramref name="from"/>, <paramref name="until"/>): any rollup written there changes one of them.</summary>
    private static async Task<Checksum> ChecksumAsync(PortalDbContext db, DateTimeOffset from, DateTimeOffset until, CancellationToken ct)
    {
        var calls = await db.UsageHours.Where(h => h.HourStart >= from && h.HourStart < until).SumAsync(h => (long?)h.Calls, ct) ?? 0;
        var verifications = await db.UsageOutcomeHours.Where(o => o.HourStart >= from && o.HourStart < until).SumAsync(o => (long?)o.Count, ct) ?? 0;
        return new Checksum(calls, verifications);
    }
}
