using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The top N of a rollup over a window of buckets, with work bounded whatever the distribution (a million keys over 30
/// days is tens of millions of rows): the threshold algorithm. Each bucket's biggest K rows come from an index on
/// (bucket, count) read from its end; every id seen there is summed exactly over the window; an id seen in no bucket's
/// top K has at most, in each bucket, that bucket's K-th count, so at most their sum (the threshold). When the N-th exact
/// total beats the threshold (or no bucket had K rows, so every id was seen), the top N is exact; otherwise K grows
/// (×4) while the rows it reads stay within a budget (<see cref="Limits"/>). A window of few rows is summed whole.
/// <para>
/// A flat distribution (many ids with about the same small counts) never proves its top N this way: each bucket's
/// K-th count is close to its first, and the threshold is the sum of them. Grouping the whole window would be exact but
/// grows with the data (seconds at ten million rows), so past the budget the answer is the best of the ids seen, each
/// total exact, with <see cref="TopList.Bound"/>: no id left out has more calls than that. The standard windows avoid
/// this through a precomputed part (<see cref="UsageTopBases"/>): their closed buckets count as one, read from memory.
/// </para>
/// </summary>
internal static class UsageTop
{
    /// <summary>Where a top list reads: the table, its id, bucket and count columns, and the span its rows cover (if it has several).</summary>
    public sealed record Source(string Table, string Id, string Bucket, string Count, UsageSpan? Span = null);

    public static readonly Source KeyHours = new("UsageRollups", "KeyId", "HourStart", "Count");
    public static readonly Source KeyDays = new("UsageKeyDays", "KeyId", "Day", "Calls");
    public static Source Applications(UsageSpan span) => new("UsageApplicationRollups", "ApplicationId", "Start", "Calls", span);
    public static Source Products(UsageSpan span) => new("UsageProductRollups", "ProductId", "Start", "Calls", span);

    /// <summary>
    /// The ids with the most calls over [<see cref="From"/>, <see cref="Until"/>) of a source, most first (ties by id),
    /// as far as <see cref="Top"/> goes; every id not in it has at most <see cref="Rest"/> (0: none is left out).
    /// </summary>
    public sealed record Base(Source Source, DateTimeOffset From, DateTimeOffset Until, IReadOnlyList<(Guid Id, long Calls)> Top, long Rest)
    {
        /// <summary>At most this many rows after <see cref="Until"/> (the portal-wide calls there); null when not known.</summary>
        public long? TailRows { get; init; }
    }

    private const int FirstK = 10;

    /// <summary>
    /// How much work a top list may do. <paramref name="RowBudget"/>: per-bucket top rows read in one round at most
    /// (buckets × K); the exact sums of the ids they name cost about as many index seeks, so at ~5,000 a round stays in
    /// tens of milliseconds on either engine. <paramref name="SmallWindowRows"/>: a window of at most this many rows is
    /// read whole and summed, exact and cheap at that size.
    /// </summary>
    public sealed record Limits(int RowBudget, int SmallWindowRows)
    {
        public static readonly Limits Default = new(5_000, 20_000);
    }

    /// <summary>
    /// The <paramref name="n"/> ids with the most counts in [<paramref name="from"/>, <paramref name="to"/>) (buckets of
    /// <paramref name="step"/>), ties by id. <paramref name="start"/>, when given, covers the window's first part.
    /// </summary>
    public static async Task<TopList> TopAsync(
        PortalDbContext db, Source source, DateTimeOffset from, DateTimeOffset to, TimeSpan step, int n, CancellationToken ct,
        Base? start = null, Limits? limits = null)
    {
        limits ??= Limits.Default;
        var bucketsFrom = start is not null && start.From == from && start.Until <= to ? start.Until : from;
        if (bucketsFrom == from) start = null;
        var buckets = new List<DateTimeOffset>();
        for (var b = bucketsFrom; b < to; b += step) buckets.Add(b);
        var segments = buckets.Count + (start is null ? 0 : 1);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            // A tail known to be small is read whole; one of unknown size only up to the budget, so a big one costs little.
            if (start is not null && (start.TailRows ?? 0) <= limits.SmallWindowRows
                && await SmallWindowAsync(db, source, start.Until, to, start.TailRows is null ? limits.RowBudget : limits.SmallWindowRows, ct) is { } tail)
                return await WithWholeTailAsync(db, source, start, tail, from, to, n, ct);
            List<(Guid Id, long Calls)> best = [];
            long threshold = 0;
            for (var k = FirstK; ; k *= 4)
            {
                var rows = await BucketTopsAsync(db, source, buckets, k, ct);
                var complete = true;
                threshold = 0;
                foreach (var bucket in rows.GroupBy(r => r.Bucket))
                {
                    if (bucket.Count() < k) continue;
                    complete = false;
                    threshold += bucket.Min(r => r.Count);
                }
                var ids = rows.Select(r => r.Id);
                if (start is not null)
                {
                    ids = ids.Concat(start.Top.Take(k).Select(t => t.Id));
                    var unseen = start.Top.Count > k ? start.Top[k - 1].Calls : start.Rest;
                    if (unseen > 0) complete = false;
                    threshold += unseen;
                }
                best = Ordered(await SumsAsync(db, source, [.. ids.Distinct()], from, to, ct));
                if (complete || (best.Count >= n && best[n - 1].Calls > threshold)) return new TopList([.. best.Take(n)], null);
                if (k == FirstK && start is null && await SmallWindowAsync(db, source, from, to, limits.SmallWindowRows, ct) is { } whole)
                    return new TopList([.. Ordered(whole).Take(n)], null);
                if ((long)segments * k * 4 > limits.RowBudget) break;
            }
            // Not proven within the budget: the best of the ids seen, each total exact; every other id has at most the threshold.
            return new TopList([.. best.Take(n)], threshold);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// A window made of a precomputed part and a tail read whole (the current hour or day, while it is small): every id
    /// of the tail and of the part's list is a candidate, and an id in neither has, over the window, its total in the
    /// part, which comes after the part's last listed one (most first, ties by id). So the top is exact, ties included,
    /// when its N-th comes no later than that last one, or when the part lists every id.
    /// </summary>
    private static async Task<TopList> WithWholeTailAsync(PortalDbContext db, Source source, Base start, List<(Guid Id, long Calls)> tail,
        DateTimeOffset from, DateTimeOffset to, int n, CancellationToken ct)
    {
        var totals = start.Top.ToDictionary(t => t.Id, t => t.Calls);
        var others = new List<Guid>();
        foreach (var (id, calls) in tail)
        {
            if (totals.TryGetValue(id, out var inPart)) totals[id] = inPart + calls;
            else others.Add(id);
        }
        // Tail ids beyond the part's list: their part is not in memory, so their whole window is summed.
        foreach (var (id, calls) in await SumsAsync(db, source, others, from, to, ct)) totals[id] = calls;
        var best = Ordered(totals.Select(t => (t.Key, t.Value)));
        if (start.Rest == 0 || start.Top.Count == 0) return new TopList([.. best.Take(n)], null);
        var last = start.Top[^1];
        var proven = best.Count >= n && Ordered([best[n - 1], last])[0] == best[n - 1];
        return new TopList([.. best.Take(n)], proven ? null : start.Rest);
    }

    /// <summary>
    /// The window's totals per id when it holds at most <paramref name="most"/> rows (read through the (bucket,
    /// count) index, so never more than that many plus one), else null.
    /// </summary>
    private static async Task<List<(Guid Id, long Calls)>?> SmallWindowAsync(
        PortalDbContext db, Source source, DateTimeOffset from, DateTimeOffset to, int most, CancellationToken ct)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = $"SELECT \"{source.Id}\", \"{source.Count}\" FROM \"{source.Table}\" WHERE {SpanFilter(source)}" +
                              $"\"{source.Bucket}\" >= @from AND \"{source.Bucket}\" < @to LIMIT {most + 1}";
        Add(db, command, "from", from);
        Add(db, command, "to", to);
        var totals = new Dictionary<Guid, long>();
        var read = 0;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (++read > most) return null;
            var id = IdOf(reader, 0);
            totals[id] = totals.GetValueOrDefault(id) + Convert.ToInt64(reader.GetValue(1));
        }
        return [.. totals.Select(t => (t.Key, t.Value))];
    }

    /// <summary>Most first, then by id in the order both databases sort their ids (the canonical text).</summary>
    internal static List<(Guid Id, long Calls)> Ordered(IEnumerable<(Guid Id, long Calls)> totals) =>
        [.. totals.OrderByDescending(t => t.Calls).ThenBy(t => t.Id.ToString(), StringComparer.OrdinalIgnoreCase)];

    /// <summary>
    /// Each bucket's biggest <paramref name="k"/> rows, one statement for all buckets: a summary covers at most 367 days
    /// or 49 hours, within SQLite's 500 terms of a compound SELECT.
    /// </summary>
    private static async Task<List<(int Bucket, Guid Id, long Count)>> BucketTopsAsync(
        PortalDbContext db, Source source, List<DateTimeOffset> buckets, int k, CancellationToken ct)
    {
        if (buckets.Count == 0) return [];
        await using var command = db.Database.GetDbConnection().CreateCommand();
        var sql = new StringBuilder();
        for (var i = 0; i < buckets.Count; i++)
        {
            if (i > 0) sql.Append(" UNION ALL ");
            sql.Append($"SELECT * FROM (SELECT {i} AS b, \"{source.Id}\" AS id, \"{source.Count}\" AS c FROM \"{source.Table}\" WHERE ")
                .Append(SpanFilter(source))
                .Append($"\"{source.Bucket}\" = @b{i} ORDER BY \"{source.Count}\" DESC LIMIT {k}) AS t{i}");
            Add(db, command, $"b{i}", buckets[i]);
        }
        command.CommandText = sql.ToString();
        var rows = new List<(int, Guid, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add((Convert.ToInt32(reader.GetValue(0)), IdOf(reader, 1), reader.GetInt64(2)));
        return rows;
    }

    /// <summary>The exact totals over the window of <paramref name="ids"/> (through the table's key, led by the id), or of every id.</summary>
    internal static async Task<List<(Guid Id, long Calls)>> SumsAsync(
        PortalDbContext db, Source source, List<Guid>? ids, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        if (ids is { Count: 0 }) return [];
        var sqlite = db.Database.IsSqlite();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        var filter = "";
        if (ids is not null)
        {
            if (sqlite)
            {
                filter = $"\"{source.Id}\" IN (SELECT value FROM json_each(@ids)) AND ";
                Add(db, command, "ids", System.Text.Json.JsonSerializer.Serialize(ids.Select(i => i.ToString().ToUpperInvariant())));
            }
            else
            {
                filter = $"\"{source.Id}\" = ANY(@ids) AND ";
                Add(db, command, "ids", ids.ToArray());
            }
        }
        command.CommandText = $"SELECT \"{source.Id}\", SUM(\"{source.Count}\") FROM \"{source.Table}\" WHERE {filter}{SpanFilter(source)}" +
                              $"\"{source.Bucket}\" >= @from AND \"{source.Bucket}\" < @to GROUP BY \"{source.Id}\"";
        Add(db, command, "from", from);
        Add(db, command, "to", to);
        var totals = new List<(Guid, long)>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) totals.Add((IdOf(reader, 0), Convert.ToInt64(reader.GetValue(1))));
        return totals;
    }

    internal static string SpanFilter(Source source) => source.Span is { } span ? $"\"Span\" = {(int)span} AND " : "";

    internal static Guid IdOf(DbDataReader reader, int ordinal) =>
        reader.GetValue(ordinal) is Guid g ? g : Guid.Parse(reader.GetString(ordinal));

    /// <summary>A parameter in the form EF stores the value in (SQLite: UTC ticks; PostgreSQL: timestamptz in UTC).</summary>
    internal static void Add(PortalDbContext db, DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value switch
        {
            DateTimeOffset d when db.Database.IsSqlite() => d.UtcTicks,
            DateTimeOffset d => d.UtcDateTime,
            _ => value,
        };
        command.Parameters.Add(parameter);
    }
}

/// <summary>
/// A top list and how sure it is: <see cref="Bound"/> null when <see cref="Items"/> are the exact top; otherwise each
/// item's total is exact but an id left out may have up to <see cref="Bound"/> calls (at least the last item's).
/// </summary>
internal sealed record TopList(List<(Guid Id, long Calls)> Items, long? Bound);
