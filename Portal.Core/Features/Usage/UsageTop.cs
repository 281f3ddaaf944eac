using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The exact top N of a rollup over a window of buckets without sorting every row of the window (a million keys over 30
/// days is tens of millions of rows): the threshold algorithm. Each bucket's biggest K rows come from an index on
/// (bucket, count) read from its end; every id seen there is summed exactly over the window; an id seen in no bucket's
/// top K has at most, in each bucket, that bucket's K-th count, so at most their sum. When the N-th exact total beats
/// that sum (or no bucket had K rows, so every id was seen), the top N is exact; otherwise K grows and it runs again.
/// </summary>
internal static class UsageTop
{
    /// <summary>Where a top list reads: the table, its id, bucket and count columns, and the span its rows cover (if it has several).</summary>
    public sealed record Source(string Table, string Id, string Bucket, string Count, UsageSpan? Span = null);

    public static readonly Source KeyHours = new("UsageRollups", "KeyId", "HourStart", "Count");
    public static readonly Source KeyDays = new("UsageKeyDays", "KeyId", "Day", "Calls");
    public static Source Applications(UsageSpan span) => new("UsageApplicationRollups", "ApplicationId", "Start", "Calls", span);
    public static Source Products(UsageSpan span) => new("UsageProductRollups", "ProductId", "Start", "Calls", span);

    private const int FirstK = 10;

    /// <summary>Past this many rows per bucket the candidates are no longer few: one grouped read of the window instead.</summary>
    private const int MaxK = 2_560;

    /// <summary>The <paramref name="n"/> ids with the most counts in [<paramref name="from"/>, <paramref name="to"/>) (buckets of <paramref name="step"/>), ties by id.</summary>
    public static async Task<List<(Guid Id, long Calls)>> TopAsync(
        PortalDbContext db, Source source, DateTimeOffset from, DateTimeOffset to, TimeSpan step, int n, CancellationToken ct)
    {
        var buckets = new List<DateTimeOffset>();
        for (var b = from; b < to; b += step) buckets.Add(b);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            for (var k = FirstK; k <= MaxK; k *= 4)
            {
                var rows = await BucketTopsAsync(db, source, buckets, k, ct);
                var complete = true;
                long threshold = 0;
                foreach (var bucket in rows.GroupBy(r => r.Bucket))
                {
                    if (bucket.Count() < k) continue;
                    complete = false;
                    threshold += bucket.Min(r => r.Count);
                }
                var totals = Ordered(await SumsAsync(db, source, [.. rows.Select(r => r.Id).Distinct()], from, to, ct));
                if (complete || (totals.Count >= n && totals[n - 1].Calls > threshold)) return [.. totals.Take(n)];
            }
            return [.. Ordered(await SumsAsync(db, source, null, from, to, ct)).Take(n)];
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Most first, then by id in the order both databases sort their ids (the canonical text).</summary>
    private static List<(Guid Id, long Calls)> Ordered(IEnumerable<(Guid Id, long Calls)> totals) =>
        [.. totals.OrderByDescending(t => t.Calls).ThenBy(t => t.Id.ToString(), StringComparer.OrdinalIgnoreCase)];

    /// <summary>
    /// Each bucket's biggest <paramref name="k"/> rows, one statement for all buckets: a summary covers at most 367 days
    /// or 49 hours, within SQLite's 500 terms of a compound SELECT.
    /// </summary>
    private static async Task<List<(int Bucket, Guid Id, long Count)>> BucketTopsAsync(
        PortalDbContext db, Source source, List<DateTimeOffset> buckets, int k, CancellationToken ct)
    {
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
    private static async Task<List<(Guid Id, long Calls)>> SumsAsync(
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

    private static string SpanFilter(Source source) => source.Span is { } span ? $"\"Span\" = {(int)span} AND " : "";

    private static Guid IdOf(DbDataReader reader, int ordinal) =>
        reader.GetValue(ordinal) is Guid g ? g : Guid.Parse(reader.GetString(ordinal));

    /// <summary>A parameter in the form EF stores the value in (SQLite: UTC ticks; PostgreSQL: timestamptz in UTC).</summary>
    private static void Add(PortalDbContext db, DbCommand command, string name, object value)
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
