using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Portal.Core.Data;
using SQLitePCL;

namespace Portal.Core.Features.Usage;

/// <summary>
/// Drains <see cref="UsageRecorder"/> in batches: raw events, every rollup (<see cref="UsageRollupWriter"/>) and each key's last use,
/// in one transaction per batch. The web host runs <see cref="RunAsync"/> in the background and calls
/// <see cref="DrainAsync"/> on shutdown so nothing queued is lost.
/// </summary>
public sealed class UsageWriter(
    UsageRecorder recorder,
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<UsageWriter> logger)
{
    public const int BatchSize = 10_000;

    /// <summary>The writer pauses for a millisecond after this many inserted rows (see <see cref="InsertEventsSqlite"/>).</summary>
    private const int RowsBetweenPauses = 200;

    /// <summary>Between pauses, the writer offers its core to any waiting thread after this many rows.</summary>
    private const int RowsBetweenYields = 25;

    /// <summary>Rows deleted per statement by <see cref="PurgeAsync"/>.</summary>
    public const int PurgeSlice = 10_000;

    // Each transaction has a fixed cost (a statement per rollup table, the last-use update, the commit) that competes
    // with the requests for CPU, so the writer lets events gather for a moment and writes them in one batch. The moment
    // is short: a process killed outright (kill -9) loses only what gathered in it, at most ~100 ms of usage with the
    // batch's own write time. Under load 20 batches a second still carry thousands of events each.
    public static readonly TimeSpan CoalesceDelay = TimeSpan.FromMilliseconds(50);

    // One writer at a time: the loop and a shutdown drain must not upsert the same rollup concurrently.
    private readonly SemaphoreSlim _writing = new(1, 1);

    // Reused by every drain (under _writing): a fresh list of this size per batch would be a large-object allocation.
    private readonly List<UsageRecord> _batch = new(BatchSize);

    // The batch without its unknown-key refusals, when it has any (also reused).
    private readonly List<UsageRecord> _events = new(BatchSize);

    private List<UsageRecord> RawEventsOf(List<UsageRecord> batch)
    {
        var any = false;
        foreach (var r in batch)
        {
            if (!r.IsUnknownKeyRefusal) continue;
            any = true;
            break;
        }
        if (!any) return batch;
        _events.Clear();
        foreach (var r in batch)
            if (!r.IsUnknownKeyRefusal) _events.Add(r);
        return _events;
    }

    /// <summary>
    /// Writes until <paramref name="stoppingToken"/> is cancelled, on a thread of its own: SQLite's work is synchronous,
    /// and a batch holding one of the thread pool's few workers (two on a 2-core machine) for tens of milliseconds
    /// stalls the requests queued behind it. The task completes when the thread ends.
    /// </summary>
    public Task RunAsync(CancellationToken stoppingToken)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                stopped.SetResult();
            }
            catch (Exception e)
            {
                stopped.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "Usage writer",
        };
        thread.Start();
        return stopped.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        try
        {
            while (recorder.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                // Let a burst gather: under load one transaction per CoalesceDelay instead of one per few events.
                // Stopping ends the wait, and the host's stop drains what is queued.
                if (recorder.Queued < BatchSize && stoppingToken.WaitHandle.WaitOne(CoalesceDelay)) return;
                DrainAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the host drains what is left.
        }
    }

    /// <summary>Tries per batch while the database is busy or locked by another writer (SQLite's BUSY and LOCKED; PostgreSQL's transient errors).</summary>
    private const int WriteAttempts = 5;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(100);

    private static bool IsTransient(Exception e) =>
        (e as Microsoft.Data.Sqlite.SqliteException ?? e.InnerException as Microsoft.Data.Sqlite.SqliteException)?.SqliteErrorCode
            is raw.SQLITE_BUSY or raw.SQLITE_LOCKED
        || (e as NpgsqlException ?? e.InnerException as NpgsqlException)?.IsTransient == true;

    /// <summary>
    /// Writes everything queued now. A batch that meets a busy or locked database is tried again; one that fails
    /// otherwise is logged and dropped, so one bad row cannot stall usage forever.
    /// </summary>
    public async Task DrainAsync(CancellationToken ct = default)
    {
        await _writing.WaitAsync(ct);
        try
        {
            var batch = _batch;
            while (true)
            {
                batch.Clear();
                while (batch.Count < BatchSize && recorder.TryTake(out var record)) batch.Add(record);
                if (batch.Count == 0) return;
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await WriteBatchAsync(batch, ct);
                        break;
                    }
                    catch (Exception e) when (IsTransient(e) && attempt < WriteAttempts)
                    {
                        // The batch's transaction rolled back, so nothing of it was written: the same batch again.
                        logger.LogWarning("Usage batch of {Count} events met a locked database (attempt {Attempt}); retrying", batch.Count, attempt);
                        await Task.Delay(RetryDelay * attempt, ct);
                    }
                    catch (Exception e) when (e is DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
                    {
                        logger.LogError(e, "Could not write {Count} usage events; they are dropped", batch.Count);
                        recorder.CountLost(batch.Count);
                        break;
                    }
                }
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task WriteBatchAsync(List<UsageRecord> batch, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        // Unknown keys are counted per caller and minute, not a row each: a flood of random keys stays a few rows.
        var events = RawEventsOf(batch);
        if (events.Count > 0)
        {
            if (db.Database.IsSqlite())
                InsertEventsSqlite(db, events);
            else
                InsertEventsPostgres(db, events);
        }
        if (events.Count < batch.Count) await UsageRollupWriter.AddRefusalsAsync(db, batch, ct);

        // Folded as they stream by into one tally per hour, key, application, product and code, then added to every
        // rollup with one upsert per table; each key's last use with one statement. Neither grows a statement per key.
        await UsageRollupWriter.AddAsync(db, UsageTally.Of(batch), ct);
        await UsageRollupWriter.TouchKeysAsync(db, [.. batch.Where(r => r.KeyId is not null)
            .AggregateBy(r => r.KeyId!.Value, DateTimeOffset.MinValue, (max, r) => r.At > max ? r.At : max)
            .Select(g => (g.Key, g.Value))], ct);
        await transaction.CommitAsync(ct);
    }

    /// <summary>
    /// One statement prepared once and stepped for every row through SQLite's own API: this runs for every API call,
    /// and ADO.NET's per-execution work (a data reader, parameter conversion, a task) cost more than the insert itself.
    /// Values are written in EF's own SQLite formats (UTC ticks, upper-case GUID text).
    /// </summary>
    private static void InsertEventsSqlite(PortalDbContext db, List<UsageRecord> batch)
    {
        var connection = (Microsoft.Data.Sqlite.SqliteConnection)db.Database.GetDbConnection();
        var handle = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(handle,
            "INSERT INTO UsageEvents (At, KeyId, OwnerUserId, ApplicationId, Method, Route, Status, LatencyMs, ProductId, PlanId, Outcome, " +
            "Source, AccountId, Path, RequestBytes, ResponseBytes, UpstreamLatencyMs, ClientAddress, UserAgent, LimitValue, LimitUsed, LimitResetAt) " +
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)", out var statement), handle);
        using (statement)
        {
            // A batch comes from few keys, owners and routes: each text is encoded once, not once per row.
            var ids = new Dictionary<Guid, byte[]>();
            var texts = new Dictionary<string, byte[]>();
            var addresses = new Dictionary<System.Net.IPAddress, byte[]>();
            var written = 0;
            foreach (var r in batch)
            {
                raw.sqlite3_bind_int64(statement, 1, r.At.UtcTicks);
                BindGuid(statement, 2, r.KeyId, ids);
                BindGuid(statement, 3, r.OwnerUserId, ids);
                BindGuid(statement, 4, r.ApplicationId, ids);
                BindText(statement, 5, r.Method, texts);
                BindText(statement, 6, r.Route, texts);
                raw.sqlite3_bind_int(statement, 7, r.Status);
                raw.sqlite3_bind_int(statement, 8, r.LatencyMs);
                BindGuid(statement, 9, r.ProductId, ids);
                BindGuid(statement, 10, r.PlanId, ids);
                BindText(statement, 11, r.Outcome, texts);
                BindText(statement, 12, SourceText(r.Source), texts);
                BindGuid(statement, 13, r.AccountId, ids);
                BindText(statement, 14, r.Path, texts);
                BindLong(statement, 15, r.RequestBytes);
                BindLong(statement, 16, r.ResponseBytes);
                BindLong(statement, 17, r.UpstreamLatencyMs);
                if (r.Origin.Address is not { } address) raw.sqlite3_bind_null(statement, 18);
                else raw.sqlite3_bind_text(statement, 18, Utf8(address, addresses, AddressText));
                BindText(statement, 19, r.Origin.UserAgent is { } agent ? Cut(agent) : null, texts);
                var (limit, used, resetAt) = LimitOf(r);
                BindLong(statement, 20, limit);
                BindLong(statement, 21, used);
                BindLong(statement, 22, resetAt?.UtcTicks);
                var rc = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                if (rc != raw.SQLITE_DONE) Check(rc, handle);
                // Background work gives way to requests: a short pause every few hundred rows lets request threads
                // waiting for this core run instead of queueing behind a batch of tens of milliseconds. Measured:
                // /me's p99 5.9 → 5.3 ms, verification's 6.5 → 5.7 ms. The pauses add ~5 ms per 1,000 rows, which keeps the
                // writer's ceiling well above the ~35,000 calls/s two cores serve. In between, every few dozen rows
                // (~60 µs of work), it yields: a request thread ready on this core runs now, not after the next
                // pause; with nothing waiting the yield returns at once (docs/benchmarks.md for the numbers).
                if (++written % RowsBetweenPauses == 0) Thread.Sleep(1);
                else if (written % RowsBetweenYields == 0) Thread.Yield();
            }
        }

        static void BindGuid(sqlite3_stmt statement, int index, Guid? id, Dictionary<Guid, byte[]> ids)
        {
            if (id is not { } g) raw.sqlite3_bind_null(statement, index);
            else raw.sqlite3_bind_text(statement, index, Utf8(g, ids, static g => g.ToString().ToUpperInvariant()));
        }

        static void BindLong(sqlite3_stmt statement, int index, long? value)
        {
            if (value is { } v) raw.sqlite3_bind_int64(statement, index, v);
            else raw.sqlite3_bind_null(statement, index);
        }

        static void BindText(sqlite3_stmt statement, int index, string? text, Dictionary<string, byte[]> texts)
        {
            if (text is null) raw.sqlite3_bind_null(statement, index);
            else raw.sqlite3_bind_text(statement, index, Utf8(text, texts, static t => t));
        }

        static byte[] Utf8<T>(T value, Dictionary<T, byte[]> cache, Func<T, string> text) where T : notnull
        {
            if (!cache.TryGetValue(value, out var bytes)) cache[value] = bytes = System.Text.Encoding.UTF8.GetBytes(text(value));
            return bytes;
        }

        static void Check(int rc, sqlite3 handle)
        {
            if (rc != raw.SQLITE_OK && rc != raw.SQLITE_DONE) Microsoft.Data.Sqlite.SqliteException.ThrowExceptionForRC(rc, handle);
        }
    }

    /// <summary>
    /// PostgreSQL: the batch streams in as one binary <c>COPY</c> inside the batch's transaction, a single round trip
    /// instead of an INSERT per row. Synchronous like the SQLite path: the writer has a thread of its own.
    /// </summary>
    private static void InsertEventsPostgres(PortalDbContext db, List<UsageRecord> batch)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        using var import = connection.BeginBinaryImport(
            "COPY \"UsageEvents\" (\"At\", \"KeyId\", \"OwnerUserId\", \"ApplicationId\", \"Method\", \"Route\", \"Status\", \"LatencyMs\", " +
            "\"ProductId\", \"PlanId\", \"Outcome\", \"Source\", \"AccountId\", \"Path\", \"RequestBytes\", \"ResponseBytes\", \"UpstreamLatencyMs\", " +
            "\"ClientAddress\", \"UserAgent\", \"LimitValue\", \"LimitUsed\", \"LimitResetAt\") " +
            "FROM STDIN (FORMAT BINARY)");
        foreach (var r in batch)
        {
            import.StartRow();
            import.Write(r.At.ToUniversalTime(), NpgsqlDbType.TimestampTz);
            WriteUuid(import, r.KeyId);
            WriteUuid(import, r.OwnerUserId);
            WriteUuid(import, r.ApplicationId);
            import.Write(r.Method, NpgsqlDbType.Varchar);
            import.Write(r.Route, NpgsqlDbType.Varchar);
            import.Write(r.Status, NpgsqlDbType.Integer);
            import.Write(r.LatencyMs, NpgsqlDbType.Integer);
            WriteUuid(import, r.ProductId);
            WriteUuid(import, r.PlanId);
            if (r.Outcome is null) import.WriteNull();
            else import.Write(r.Outcome, NpgsqlDbType.Varchar);
            import.Write(SourceText(r.Source), NpgsqlDbType.Varchar);
            WriteUuid(import, r.AccountId);
            if (r.Path is null) import.WriteNull();
            else import.Write(r.Path, NpgsqlDbType.Varchar);
            WriteLong(import, r.RequestBytes);
            WriteLong(import, r.ResponseBytes);
            if (r.UpstreamLatencyMs is { } upstream) import.Write(upstream, NpgsqlDbType.Integer);
            else import.WriteNull();
            if (r.Origin.Address is { } address) import.Write(AddressText(address), NpgsqlDbType.Varchar);
            else import.WriteNull();
            if (r.Origin.UserAgent is { } agent) import.Write(Cut(agent), NpgsqlDbType.Varchar);
            else import.WriteNull();
            var (limit, used, resetAt) = LimitOf(r);
            WriteLong(import, limit);
            WriteLong(import, used);
            if (resetAt is { } reset) import.Write(reset.ToUniversalTime(), NpgsqlDbType.TimestampTz);
            else import.WriteNull();
        }
        import.Complete();

        static void WriteLong(NpgsqlBinaryImporter import, long? value)
        {
            if (value is { } v) import.Write(v, NpgsqlDbType.Bigint);
            else import.WriteNull();
        }

        static void WriteUuid(NpgsqlBinaryImporter import, Guid? id)
        {
            if (id is { } g) import.Write(g, NpgsqlDbType.Uuid);
            else import.WriteNull();
        }
    }

    /// <summary>An IPv4 caller on a dual-stack socket is shown as IPv4.</summary>
    private static string AddressText(System.Net.IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    private static string Cut(string userAgent) =>
        userAgent.Length <= UsageEventConfiguration.MaxUserAgentLength ? userAgent : userAgent[..UsageEventConfiguration.MaxUserAgentLength];

    /// <summary>The limit that refused, with what was used of it: only a RATE_LIMITED or QUOTA_EXCEEDED answer carries one.</summary>
    private static (long? Limit, long? Used, DateTimeOffset? ResetAt) LimitOf(in UsageRecord r) =>
        r.Limit is { Limit: { } limit } state ? (limit, state.Remaining is { } left ? Math.Max(0, limit - left) : null, state.ResetAt) : (null, null, null);

    /// <summary>The source as its column holds it (EF's string conversion of the enum), without formatting per row.</summary>
    private static string SourceText(UsageSource source) => source switch
    {
        UsageSource.Verification => nameof(UsageSource.Verification),
        UsageSource.Gateway => nameof(UsageSource.Gateway),
        _ => nameof(UsageSource.Api),
    };

    /// <summary>
    /// Deletes raw events older than the retention period; rollups are kept for history and metrics. On PostgreSQL whole
    /// days go at once (<see cref="UsagePartitions"/>: a partition dropped) and only the day the cutoff falls in, and any
    /// stray event in the default partition, is deleted row by row. Answers the rows deleted one by one (a dropped day's
    /// rows are not counted: counting them would read them).
    /// </summary>
    public async Task<int> PurgeAsync(CancellationToken ct = default)
    {
        var days = Math.Max(1, options.Value.Usage.RetentionDays);
        var cutoff = clock.GetUtcNow().AddDays(-days);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await UsagePartitions.AreUsedAsync(db, ct))
        {
            var (dropped, deleted) = await UsagePartitions.PurgeAsync(db, cutoff, PurgeSlice, logger, ct);
            if (dropped > 0) logger.LogInformation("Dropped {Count} days of usage events past retention", dropped);
            return deleted;
        }
        // In slices: a day of events can be millions of rows, and one statement deleting them all would hold the
        // database's write lock (on SQLite, the whole file) for as long as it takes, stalling the usage writer.
        var total = 0;
        while (true)
        {
            var deleted = await db.UsageEvents.Where(e => e.At < cutoff).OrderBy(e => e.At).Take(PurgeSlice).ExecuteDeleteAsync(ct);
            total += deleted;
            if (deleted < PurgeSlice) break;
        }
        // Counted refusals are raw usage too: kept as long.
        await db.UsageRefusalMinutes.Where(r => r.MinuteStart < cutoff).ExecuteDeleteAsync(ct);
        return total;
    }

    /// <summary>
    /// On PostgreSQL, makes the usage events' partitions of today and the next days that are missing
    /// (<see cref="UsagePartitions.EnsureAsync"/>); elsewhere nothing. Answers how many it made.
    /// </summary>
    public async Task<int> EnsurePartitionsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await UsagePartitions.AreUsedAsync(db, ct)) return 0;
        return await UsagePartitions.EnsureAsync(db, clock.GetUtcNow(), logger, ct);
    }

    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
