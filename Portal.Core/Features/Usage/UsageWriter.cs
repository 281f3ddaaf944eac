using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;

namespace Portal.Core.Features.Usage;

/// <summary>
/// Drains <see cref="UsageRecorder"/> in batches: raw events, hourly rollups per key and each key's last use,
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

    // Each transaction has a fixed cost (rollup read and upsert, last-use update, commit) that competes with the
    // requests for CPU, so under load the writer waits a second and writes what gathered in one or a few batches.
    private static readonly TimeSpan CoalesceDelay = TimeSpan.FromSeconds(1);

    // One writer at a time: the loop and a shutdown drain must not upsert the same rollup concurrently.
    private readonly SemaphoreSlim _writing = new(1, 1);

    // Reused by every drain (under _writing): a fresh list of this size per batch would be a large-object allocation.
    private readonly List<UsageRecord> _batch = new(BatchSize);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await recorder.Reader.WaitToReadAsync(stoppingToken))
            {
                // Let a burst gather: under load one transaction per second instead of one per few events.
                // Stopping cancels the wait, and the host's stop drains what is queued.
                if (recorder.Queued < BatchSize) await Task.Delay(CoalesceDelay, stoppingToken);
                await DrainAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the host drains what is left.
        }
    }

    /// <summary>Writes everything queued now. A failing batch is logged and dropped so one bad row cannot stall usage forever.</summary>
    public async Task DrainAsync(CancellationToken ct = default)
    {
        await _writing.WaitAsync(ct);
        try
        {
            var batch = _batch;
            while (true)
            {
                batch.Clear();
                while (batch.Count < BatchSize && recorder.Reader.TryRead(out var record)) batch.Add(record);
                if (batch.Count == 0) return;
                try
                {
                    await WriteBatchAsync(batch, ct);
                }
                catch (Exception e) when (e is DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
                {
                    logger.LogError(e, "Could not write {Count} usage events; they are dropped", batch.Count);
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
        if (db.Database.IsSqlite())
            await InsertEventsSqliteAsync(db, batch, ct);
        else
            db.UsageEvents.AddRange(batch.Select(r => new UsageEvent
            {
                At = r.At, KeyId = r.KeyId, OwnerUserId = r.OwnerUserId, Method = r.Method, Route = r.Route, Status = r.Status, LatencyMs = r.LatencyMs,
                ApplicationId = r.ApplicationId, ProductId = r.ProductId, PlanId = r.PlanId, Outcome = r.Outcome,
            }));

        // Aggregated as they stream by: grouping would copy every record of the batch into per-group arrays.
        var hourly = batch.Where(r => r.KeyId is not null)
            .AggregateBy(r => (KeyId: r.KeyId!.Value, Hour: HourOf(r.At)), (Count: 0L, Errors: 0L),
                (sum, r) => (sum.Count + 1, sum.Errors + (r.Status >= 400 ? 1 : 0)))
            .Select(g => (g.Key.KeyId, g.Key.Hour, g.Value.Count, g.Value.Errors))
            .ToList();
        var keyIds = hourly.Select(h => h.KeyId).Distinct().ToList();
        var hours = hourly.Select(h => h.Hour).Distinct().ToList();
        var existing = await db.UsageRollups.Where(r => keyIds.Contains(r.KeyId) && hours.Contains(r.HourStart)).ToListAsync(ct);
        var byKey = existing.ToDictionary(r => (r.KeyId, r.HourStart));
        foreach (var (keyId, hour, count, errors) in hourly)
        {
            if (byKey.TryGetValue((keyId, hour), out var rollup))
            {
                rollup.Count += count;
                rollup.Errors += errors;
                db.Entry(rollup).State = EntityState.Modified;
            }
            else
            {
                db.UsageRollups.Add(new UsageRollup { KeyId = keyId, HourStart = hour, Count = count, Errors = errors });
            }
        }
        await db.SaveChangesAsync(ct);

        foreach (var last in batch.Where(r => r.KeyId is not null)
                     .AggregateBy(r => r.KeyId!.Value, DateTimeOffset.MinValue, (max, r) => r.At > max ? r.At : max)
                     .Select(g => (KeyId: g.Key, At: g.Value)))
        {
            await db.ApiKeys.Where(k => k.Id == last.KeyId && (k.LastUsedAt == null || k.LastUsedAt < last.At))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, last.At), ct);
        }
        await transaction.CommitAsync(ct);
    }

    /// <summary>Deletes raw events older than the retention period; rollups are kept for history and metrics.</summary>
    /// <summary>
    /// One prepared statement reused for the whole batch: several times cheaper than tracked entities, and this
    /// runs for every API call. Values are written in EF's own SQLite formats (UTC ticks, upper-case GUID text).
    /// </summary>
    private static async Task InsertEventsSqliteAsync(PortalDbContext db, List<UsageRecord> batch, CancellationToken ct)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        await using (command)
        {
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            command.CommandText = "INSERT INTO UsageEvents (At, KeyId, OwnerUserId, ApplicationId, Method, Route, Status, LatencyMs, ProductId, PlanId, Outcome) " +
                                  "VALUES ($at, $key, $owner, $application, $method, $route, $status, $latency, $product, $plan, $outcome)";
            var at = Add(command, "$at");
            var key = Add(command, "$key");
            var owner = Add(command, "$owner");
            var application = Add(command, "$application");
            var product = Add(command, "$product");
            var plan = Add(command, "$plan");
            var outcome = Add(command, "$outcome");
            var method = Add(command, "$method");
            var route = Add(command, "$route");
            var status = Add(command, "$status");
            var latency = Add(command, "$latency");
            await command.PrepareAsync(ct);
            // A batch comes from few keys and owners: each id's text is made once, not twice per row.
            var guidTexts = new Dictionary<Guid, string>();
            foreach (var r in batch)
            {
                at.Value = r.At.UtcTicks;
                key.Value = GuidText(r.KeyId, guidTexts);
                owner.Value = GuidText(r.OwnerUserId, guidTexts);
                application.Value = GuidText(r.ApplicationId, guidTexts);
                product.Value = GuidText(r.ProductId, guidTexts);
                plan.Value = GuidText(r.PlanId, guidTexts);
                outcome.Value = (object?)r.Outcome ?? DBNull.Value;
                method.Value = r.Method;
                route.Value = r.Route;
                status.Value = r.Status;
                latency.Value = r.LatencyMs;
                await command.ExecuteNonQueryAsync(ct);
            }
        }

        static System.Data.Common.DbParameter Add(System.Data.Common.DbCommand command, string name)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
            return parameter;
        }

        static object GuidText(Guid? id, Dictionary<Guid, string> texts)
        {
            if (id is not { } g) return DBNull.Value;
            if (!texts.TryGetValue(g, out var text)) texts[g] = text = g.ToString().ToUpperInvariant();
            return text;
        }
    }

    public async Task<int> PurgeAsync(CancellationToken ct = default)
    {
        var days = Math.Max(1, options.Value.Usage.RetentionDays);
        var cutoff = clock.GetUtcNow().AddDays(-days);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.UsageEvents.Where(e => e.At < cutoff).ExecuteDeleteAsync(ct);
    }

    public static DateTimeOffset HourOf(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }
}
