using System.Data.Common;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using NpgsqlTypes;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// Usage counted in one hour for one combination of what the rollups group by: the writer folds a batch of events into
/// these, demo data and tests write them directly. <paramref name="KeyId"/> null: calls without a key (verifications
/// of an unknown key), which count only as verifications.
/// </summary>
public readonly record struct UsageTally(
    DateTimeOffset Hour, Guid? KeyId, Guid? ApplicationId, Guid? ProductId, string? Outcome, long Calls, long Errors)
{
    /// <summary>The tallies of a batch of events, one per distinct hour, key, application, product and code.</summary>
    public static List<UsageTally> Of(IEnumerable<UsageRecord> records) =>
        [.. records
            .AggregateBy(r => (Hour: UsageWriter.HourOf(r.At), r.KeyId, r.ApplicationId, r.ProductId, r.Outcome), (Calls: 0L, Errors: 0L),
                (sum, r) => (sum.Calls + 1, sum.Errors + (r.Status >= 400 ? 1 : 0)))
            .Select(g => new UsageTally(g.Key.Hour, g.Key.KeyId, g.Key.ApplicationId, g.Key.ProductId, g.Key.Outcome, g.Value.Calls, g.Value.Errors))];
}

/// <summary>
/// Adds tallies to every rollup table with one additive upsert per table (<c>INSERT … ON CONFLICT DO UPDATE SET n = n +
/// excluded.n</c>): never a read followed by a write, so writers on several instances add up exactly, and a row that
/// exists already is added to, never a collision. The rows of a statement travel as one parameter per column
/// (PostgreSQL arrays through <c>unnest</c>) or one JSON document (SQLite through <c>json_each</c>), so a batch costs a
/// statement per table whatever the number of keys in it. Rows go in key order: two PostgreSQL writers then lock
/// shared rows in the same order and wait for each other instead of deadlocking.
/// </summary>
public static class UsageRollupWriter
{
    private sealed record Table(string Name, string[] Keys, string[] Values);

    // Column lists in one place: the tables' key columns (the conflict target) and the counts added.
    private static readonly Table KeyHours = new("UsageRollups", ["KeyId", "HourStart"], ["Count", "Errors"]);
    private static readonly Table Hours = new("UsageHours", ["HourStart"], ["Calls", "Errors", "PersonalCalls"]);
    private static readonly Table OutcomeHours = new("UsageOutcomeHours", ["HourStart", "Outcome"], ["Count"]);
    private static readonly Table KeyDays = new("UsageKeyDays", ["KeyId", "Day"], ["Calls", "Errors"]);
    private static readonly Table Applications = new("UsageApplicationRollups", ["ApplicationId", "Span", "Start"], ["Calls", "Errors"]);
    private static readonly Table Products = new("UsageProductRollups", ["ProductId", "Span", "Start"], ["Calls"]);
    private static readonly Table Verifications = new("UsageVerificationHours", ["KeyId", "HourStart", "ProductId", "Outcome"], ["Count"]);
    private static readonly Table Refusals = new("UsageRefusalMinutes", ["MinuteStart", "CallerKeyId", "Source", "Outcome"], ["Count"]);

    /// <summary>Adds the batch's unknown-key refusals (<see cref="UsageRecord.IsUnknownKeyRefusal"/>) per minute, caller, source and code.</summary>
    public static async Task AddRefusalsAsync(PortalDbContext db, IEnumerable<UsageRecord> batch, CancellationToken ct = default)
    {
        var counts = batch.Where(r => r.IsUnknownKeyRefusal)
            .CountBy(r => (Minute: MinuteOf(r.At), Caller: r.CallerKeyId ?? Guid.Empty, Source: r.Source.ToString(), r.Outcome!))
            .OrderBy(c => c.Key)
            .Select(c => new object[] { c.Key.Minute, c.Key.Caller, c.Key.Source, c.Key.Item4, (long)c.Value })
            .ToList();
        if (counts.Count == 0) return;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await UpsertAsync(db, Refusals, counts, ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static DateTimeOffset MinuteOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
    }

    public static async Task AddAsync(PortalDbContext db, IReadOnlyCollection<UsageTally> tallies, CancellationToken ct = default)
    {
        if (tallies.Count == 0) return;
        var keyHours = new Dictionary<(Guid, DateTimeOffset), (long, long)>();
        var hours = new Dictionary<DateTimeOffset, (long Calls, long Errors, long Personal)>();
        var outcomes = new Dictionary<(DateTimeOffset, string), long>();
        var keyDays = new Dictionary<(Guid, DateTimeOffset), (long, long)>();
        var applications = new Dictionary<(Guid, UsageSpan, DateTimeOffset), (long, long)>();
        var products = new Dictionary<(Guid, UsageSpan, DateTimeOffset), long>();
        var verifications = new Dictionary<(Guid, DateTimeOffset, Guid, string), long>();
        foreach (var t in tallies)
        {
            var hour = UsageWriter.HourOf(t.Hour);
            var day = UsageBuckets.Align(hour, TimeSpan.FromDays(1));
            if (t.KeyId is { } keyId)
            {
                // Calls are the calls made with a key, as the request log and "calls today" have always counted them.
                Add(keyHours, (keyId, hour), t);
                var (calls, errors, personal) = hours.GetValueOrDefault(hour);
                hours[hour] = (calls + t.Calls, errors + t.Errors, personal + (t.ApplicationId is null ? t.Calls : 0));
                Add(keyDays, (keyId, day), t);
                if (t.ApplicationId is { } applicationId)
                {
                    Add(applications, (applicationId, UsageSpan.Hour, hour), t);
                    Add(applications, (applicationId, UsageSpan.Day, day), t);
                }
            }
            if (t.Outcome is { } outcome)
            {
                outcomes[(hour, outcome)] = outcomes.GetValueOrDefault((hour, outcome)) + t.Calls;
                var verification = (t.KeyId ?? Guid.Empty, hour, t.ProductId ?? Guid.Empty, outcome);
                verifications[verification] = verifications.GetValueOrDefault(verification) + t.Calls;
                if (t.ProductId is { } productId)
                {
                    products[(productId, UsageSpan.Hour, hour)] = products.GetValueOrDefault((productId, UsageSpan.Hour, hour)) + t.Calls;
                    products[(productId, UsageSpan.Day, day)] = products.GetValueOrDefault((productId, UsageSpan.Day, day)) + t.Calls;
                }
            }
        }

        await db.Database.OpenConnectionAsync(ct);
        // All tables or none: the portal-wide hours must never show calls whose per-key rows are not there yet, since
        // UsageTopBases trusts its precomputed parts for as long as those hours are unchanged. The writer brings its own
        // transaction; demo data and tests get one here.
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            // Always in this order (and each in key order, see Upsert), for the same reason.
            await UpsertAsync(db, Hours, hours.OrderBy(h => h.Key).Select(h => new object[] { h.Key, h.Value.Calls, h.Value.Errors, h.Value.Personal }), ct);
            await UpsertAsync(db, OutcomeHours, outcomes.OrderBy(o => o.Key).Select(o => new object[] { o.Key.Item1, o.Key.Item2, o.Value }), ct);
            await UpsertAsync(db, KeyHours, keyHours.OrderBy(k => k.Key).Select(k => new object[] { k.Key.Item1, k.Key.Item2, k.Value.Item1, k.Value.Item2 }), ct);
            await UpsertAsync(db, KeyDays, keyDays.OrderBy(k => k.Key).Select(k => new object[] { k.Key.Item1, k.Key.Item2, k.Value.Item1, k.Value.Item2 }), ct);
            await UpsertAsync(db, Applications, applications.OrderBy(a => a.Key)
                .Select(a => new object[] { a.Key.Item1, (int)a.Key.Item2, a.Key.Item3, a.Value.Item1, a.Value.Item2 }), ct);
            await UpsertAsync(db, Products, products.OrderBy(p => p.Key).Select(p => new object[] { p.Key.Item1, (int)p.Key.Item2, p.Key.Item3, p.Value }), ct);
            await UpsertAsync(db, Verifications, verifications.OrderBy(v => v.Key)
                .Select(v => new object[] { v.Key.Item1, v.Key.Item2, v.Key.Item3, v.Key.Item4, v.Value }), ct);
            if (own is not null) await own.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        static void Add<TKey>(Dictionary<TKey, (long Calls, long Errors)> rows, TKey key, UsageTally t) where TKey : notnull
        {
            var (calls, errors) = rows.GetValueOrDefault(key);
            rows[key] = (calls + t.Calls, errors + t.Errors);
        }
    }

    /// <summary>Sets each key's last use to the latest of the batch, one statement for all of them; never moves it back.</summary>
    public static async Task TouchKeysAsync(PortalDbContext db, IReadOnlyCollection<(Guid KeyId, DateTimeOffset At)> lastUses, CancellationToken ct = default)
    {
        if (lastUses.Count == 0) return;
        var ordered = lastUses.OrderBy(l => l.KeyId).Select(l => new object[] { l.KeyId, l.At }).ToList();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = CommandOf(db);
            if (db.Database.IsSqlite())
            {
                command.CommandText =
                    "UPDATE \"ApiKeys\" SET \"LastUsedAt\" = v.At " +
                    "FROM (SELECT json_extract(value, '$[0]') AS Id, json_extract(value, '$[1]') AS At FROM json_each($rows)) AS v " +
                    "WHERE \"ApiKeys\".\"Id\" = v.Id AND (\"ApiKeys\".\"LastUsedAt\" IS NULL OR \"ApiKeys\".\"LastUsedAt\" < v.At)";
                AddParameter(command, "$rows", SqliteJson(ordered));
            }
            else
            {
                command.CommandText =
                    "UPDATE \"ApiKeys\" AS k SET \"LastUsedAt\" = v.at FROM unnest(@p0, @p1) AS v(id, at) " +
                    "WHERE k.\"Id\" = v.id AND (k.\"LastUsedAt\" IS NULL OR k.\"LastUsedAt\" < v.at)";
                AddPostgresArrays(command, ordered, 2);
            }
            await command.ExecuteNonQueryAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task UpsertAsync(PortalDbContext db, Table table, IEnumerable<object[]> rows, CancellationToken ct)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        var columns = string.Join(", ", table.Keys.Concat(table.Values).Select(Quote));
        var conflict = string.Join(", ", table.Keys.Select(Quote));
        var sqlite = db.Database.IsSqlite();
        // SQLite names the existing row by its column alone; PostgreSQL needs the table's name (both: excluded.X for the new).
        var sums = string.Join(", ", table.Values.Select(v => $"{Quote(v)} = {(sqlite ? "" : Quote(table.Name) + ".")}{Quote(v)} + excluded.{Quote(v)}"));
        await using var command = CommandOf(db);
        var width = table.Keys.Length + table.Values.Length;
        if (sqlite)
        {
            var values = string.Join(", ", Enumerable.Range(0, width).Select(i => $"json_extract(value, '$[{i}]')"));
            // "WHERE true": SQLite's grammar needs it between a SELECT and ON CONFLICT.
            command.CommandText = $"INSERT INTO {Quote(table.Name)} ({columns}) SELECT {values} FROM json_each($rows) WHERE true " +
                                  $"ON CONFLICT ({conflict}) DO UPDATE SET {sums}";
            AddParameter(command, "$rows", SqliteJson(list));
        }
        else
        {
            var arrays = string.Join(", ", Enumerable.Range(0, width).Select(i => $"@p{i}"));
            command.CommandText = $"INSERT INTO {Quote(table.Name)} ({columns}) SELECT * FROM unnest({arrays}) " +
                                  $"ON CONFLICT ({conflict}) DO UPDATE SET {sums}";
            AddPostgresArrays(command, list, width);
        }
        await command.ExecuteNonQueryAsync(ct);
    }

    private static string Quote(string name) => $"\"{name}\"";

    private static DbCommand CommandOf(PortalDbContext db)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    /// <summary>The rows as a JSON array of arrays, each value in EF's SQLite format (UTC ticks, upper-case GUID text).</summary>
    private static string SqliteJson(List<object[]> rows)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var row in rows)
            {
                json.WriteStartArray();
                foreach (var value in row)
                {
                    switch (value)
                    {
                        case Guid g: json.WriteStringValue(g.ToString().ToUpperInvariant()); break;
                        case DateTimeOffset d: json.WriteNumberValue(d.UtcTicks); break;
                        case long l: json.WriteNumberValue(l); break;
                        case int i: json.WriteNumberValue(i); break;
                        case string s: json.WriteStringValue(s); break;
                        default: throw new ArgumentException($"No SQLite form for {value.GetType()}.");
                    }
                }
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One typed array parameter per column (<c>@p0</c>…), for <c>unnest</c>.</summary>
    private static void AddPostgresArrays(DbCommand command, List<object[]> rows, int width)
    {
        for (var column = 0; column < width; column++)
        {
            var parameter = (Npgsql.NpgsqlParameter)command.CreateParameter();
            parameter.ParameterName = $"p{column}";
            var c = column;
            (parameter.Value, parameter.NpgsqlDbType) = rows[0][column] switch
            {
                Guid => ((object)rows.Select(r => (Guid)r[c]).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Uuid),
                DateTimeOffset => (rows.Select(r => ((DateTimeOffset)r[c]).UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz),
                long => (rows.Select(r => (long)r[c]).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                int => (rows.Select(r => (int)r[c]).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer),
                string => (rows.Select(r => (string)r[c]).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Varchar),
                var other => throw new ArgumentException($"No PostgreSQL array for {other.GetType()}."),
            };
            command.Parameters.Add(parameter);
        }
    }
}
