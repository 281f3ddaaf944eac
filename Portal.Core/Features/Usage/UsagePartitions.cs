using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// PostgreSQL keeps <c>UsageEvents</c> partitioned by range of <c>At</c>, one partition per UTC day
/// (<c>UsageEvents_yyyyMMdd</c>, migration <c>UsageEventPartitions</c>) and a <c>UsageEvents_default</c> partition that
/// takes any time outside them, so an insert never fails. This makes the days ahead and drops the days past retention:
/// retention is then a <c>DROP TABLE</c> per day, no rows deleted, no dead tuples to vacuum, no WAL per row.
/// <para>
/// Daily rather than monthly: retention is counted in days (30 by default), so the one partition that straddles the
/// cutoff, whose expired rows are deleted in slices, holds at most a day of events, not a month; and a window of 30–40
/// partitions keeps planning and the request log's merge of per-partition index scans cheap.
/// </para>
/// <para>
/// Safe from several instances at once: every change runs in its own short transaction holding one advisory lock, and
/// checks again under it what exists. The DDL waits at most <see cref="LockTimeout"/> for running queries (dropping a
/// partition locks the parent table for a moment), then gives up until the next run instead of queueing the traffic
/// behind it; partitions are made days ahead, so a missed run changes nothing.
/// </para>
/// </summary>
public static partial class UsagePartitions
{
    public const string Table = "UsageEvents";
    public const string DefaultPartition = "UsageEvents_default";

    /// <summary>Days made ahead of today (and today): an instance may be down over a long weekend and still find them.</summary>
    public const int DaysAhead = 7;

    /// <summary>The lock every maintainer holds while it changes partitions (any constant unique to this use).</summary>
    public const long AdvisoryLock = 0x506F7274_616C5550; // "PortalUP"

    private const string LockTimeout = "1s";

    [GeneratedRegex(@"^UsageEvents_(\d{8})$")]
    private static partial Regex DayPartition();

    public static string NameOf(DateTimeOffset day) => $"{Table}_{day.UtcDateTime:yyyyMMdd}";

    /// <summary>The UTC day of a partition named by <see cref="NameOf"/>, or null for the default one or any other table.</summary>
    public static DateTimeOffset? DayOf(string partition) =>
        DayPartition().Match(partition) is { Success: true } m
            ? new DateTimeOffset(DateTime.ParseExact(m.Groups[1].Value, "yyyyMMdd", CultureInfo.InvariantCulture), TimeSpan.Zero)
            : null;

    /// <summary>Whether this database's usage events are partitioned (PostgreSQL after the migration).</summary>
    public static async Task<bool> AreUsedAsync(PortalDbContext db, CancellationToken ct = default)
    {
        if (!db.Database.IsNpgsql()) return false;
        var kind = await db.Database.SqlQueryRaw<string>(
            "SELECT relkind::text AS \"Value\" FROM pg_class WHERE oid = to_regclass('\"UsageEvents\"')").FirstOrDefaultAsync(ct);
        return kind == "p";
    }

    /// <summary>The partitions of <c>UsageEvents</c> by name (the default one included).</summary>
    public static async Task<List<string>> ListAsync(PortalDbContext db, CancellationToken ct = default) =>
        await db.Database.SqlQueryRaw<string>(
            "SELECT c.relname::text AS \"Value\" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " +
            "WHERE i.inhparent = to_regclass('\"UsageEvents\"') ORDER BY 1").ToListAsync(ct);

    /// <summary>
    /// Makes the partitions of today and the <see cref="DaysAhead"/> days after it that do not exist yet. Events of such
    /// a day that went to the default partition meanwhile move into the new partition with it. Answers how many it made.
    /// </summary>
    public static async Task<int> EnsureAsync(PortalDbContext db, DateTimeOffset now, ILogger logger, CancellationToken ct = default)
    {
        var existing = (await ListAsync(db, ct)).ToHashSet(StringComparer.Ordinal);
        var today = UsageBuckets.Align(now.ToUniversalTime(), TimeSpan.FromDays(1));
        var made = 0;
        for (var ahead = 0; ahead <= DaysAhead; ahead++)
        {
            var day = today.AddDays(ahead);
            if (existing.Contains(NameOf(day))) continue;
            if (await TryChangeAsync(db, logger, $"make partition {NameOf(day)}", () => CreateAsync(db, day, ct), ct)) made++;
        }
        return made;
    }

    /// <summary>
    /// Drops every day partition that ends at or before <paramref name="cutoff"/>, then deletes in slices the expired
    /// events of the day the cutoff falls in and of the default partition. Answers the partitions dropped and the rows
    /// deleted (a dropped partition's rows are not counted: counting them would read them).
    /// </summary>
    public static async Task<(int Dropped, int Deleted)> PurgeAsync(PortalDbContext db, DateTimeOffset cutoff, int slice, ILogger logger,
        CancellationToken ct = default)
    {
        var dropped = 0;
        foreach (var partition in await ListAsync(db, ct))
            if (DayOf(partition) is { } day && day.AddDays(1) <= cutoff
                && await TryChangeAsync(db, logger, $"drop partition {partition}", () => DropAsync(db, partition, ct), ct))
                dropped++;

        // What may still hold expired rows: the day the cutoff falls in, a day that could not be dropped now (a later run
        // drops it) and the default partition.
        var deleted = 0;
        foreach (var partition in await ListAsync(db, ct))
        {
            if (partition != DefaultPartition && !(DayOf(partition) is { } day && day < cutoff)) continue;
            try
            {
                // One slice per statement by physical row address within the one table: an index range of At for the
                // addresses, then those rows, never a long lock.
                while (true)
                {
                    var n = await Run(db,
                        $"DELETE FROM \"{partition}\" WHERE ctid = ANY(ARRAY(SELECT ctid FROM \"{partition}\" WHERE \"At\" < @p0 LIMIT {slice}))", ct,
                        new NpgsqlParameter("p0", cutoff.UtcDateTime));
                    deleted += n;
                    if (n < slice) break;
                }
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
            {
                // Another instance dropped it meanwhile.
            }
        }
        return (dropped, deleted);
    }

    /// <summary>Runs one change in its own transaction under the advisory lock; false (and a log line) when it must wait for a later run.</summary>
    private static async Task<bool> TryChangeAsync(PortalDbContext db, ILogger logger, string what, Func<Task<bool>> change, CancellationToken ct)
    {
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Waits for another maintainer (its changes are short), then bounds the wait for locks on the tables.
            await Run(db, $"SELECT pg_advisory_xact_lock({AdvisoryLock})", ct);
            await Run(db, $"SET LOCAL lock_timeout = '{LockTimeout}'", ct);
            var changed = await change();
            await transaction.CommitAsync(ct);
            return changed;
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.LockNotAvailable or PostgresErrorCodes.QueryCanceled
                                              or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.CheckViolation)
        {
            logger.LogInformation("Usage partitions: could not {What} now ({Reason}); the next run tries again", what, e.MessageText);
            return false;
        }
    }

    private static async Task<bool> ExistsAsync(PortalDbContext db, string name, CancellationToken ct) =>
        await db.Database.SqlQueryRaw<int>(
            "SELECT 1 AS \"Value\" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid " +
            "WHERE i.inhparent = to_regclass('\"UsageEvents\"') AND c.relname = @p0", new NpgsqlParameter("p0", name)).AnyAsync(ct);

    /// <summary>
    /// The new day as a table of its own, filled with that day's events from the default partition (moved in one
    /// statement), then attached: <c>ATTACH PARTITION</c> takes a lock on the parent that lets reads and inserts go on,
    /// where <c>CREATE TABLE … PARTITION OF</c> would block them.
    /// </summary>
    private static async Task<bool> CreateAsync(PortalDbContext db, DateTimeOffset day, CancellationToken ct)
    {
        var name = NameOf(day);
        if (await ExistsAsync(db, name, ct)) return false;
        var (from, to) = (new NpgsqlParameter("p0", day.UtcDateTime), new NpgsqlParameter("p1", day.AddDays(1).UtcDateTime));
        await Run(db, $"DROP TABLE IF EXISTS \"{name}\"", ct); // a detached leftover of an interrupted run
        await Run(db, $"CREATE TABLE \"{name}\" (LIKE \"{Table}\" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)", ct);
        // Locked first: a row of this day inserted after the move would make the attach fail.
        await Run(db, $"LOCK TABLE \"{DefaultPartition}\" IN SHARE ROW EXCLUSIVE MODE", ct);
        await Run(db,
            $"WITH moved AS (DELETE FROM \"{DefaultPartition}\" WHERE \"At\" >= @p0 AND \"At\" < @p1 RETURNING *) INSERT INTO \"{name}\" SELECT * FROM moved", ct, from, to);
        // Bounds as literals in UTC (DDL takes no parameters).
        await Run(db,
            $"ALTER TABLE \"{Table}\" ATTACH PARTITION \"{name}\" FOR VALUES FROM ('{day.UtcDateTime:yyyy-MM-dd}T00:00:00Z') TO ('{day.AddDays(1).UtcDateTime:yyyy-MM-dd}T00:00:00Z')",
            ct);
        return true;
    }

    /// <summary>Runs DDL and deletes whose table names come from <see cref="NameOf"/>, the catalog or constants, never from input.</summary>
    private static Task<int> Run(PortalDbContext db, string sql, CancellationToken ct, params object[] parameters) =>
        db.Database.ExecuteSqlRawAsync(sql, parameters, ct);

    private static async Task<bool> DropAsync(PortalDbContext db, string name, CancellationToken ct)
    {
        if (!await ExistsAsync(db, name, ct)) return false;
        await Run(db, $"DROP TABLE \"{name}\"", ct);
        return true;
    }
}
