using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Subscriptions;

namespace Portal.Core.Features.Billing;

/// <summary>Re-issuing asks for a closed month: the open one is an estimate that changes by itself.</summary>
public sealed record MonthStillOpen(string Month) : ConflictError($"{Month} is not closed yet: only a closed month's statement can be re-issued.");

/// <summary>
/// Statements per account and month. A line per subscription billed in the month (it had billable calls, or it was
/// APPROVED during part of it), priced by <see cref="PlanPricing"/> from <see cref="BillableUsage"/>; totals per currency
/// are sums of lines. The current month is an estimate with a straight-line projection to its end. A closed month is
/// frozen: stored once (by <see cref="StatementCloser"/>, or by the first read after it closed) and read back from then
/// on, so a later price edit never changes it; an admin re-issue stores a new revision from today's prices.
/// </summary>
public sealed class StatementService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, ILogger<StatementService> logger)
{
    /// <summary>
    /// A month closes this long after its end: the quota counters reach the database within a flush (100 ms), so calls
    /// made in the last instant of the month are in before the month is frozen.
    /// </summary>
    public static readonly TimeSpan CloseDelay = TimeSpan.FromMinutes(5);

    private static readonly JsonSerializerOptions LineJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>True once <paramref name="month"/> is frozen at <paramref name="now"/>.</summary>
    public static bool IsClosed(DateTimeOffset month, DateTimeOffset now) => now >= month.AddMonths(1) + CloseDelay;

    public async Task<Result<StatementDto>> GetAsync(Actor actor, Guid accountId, string? month, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        var now = clock.GetUtcNow();
        if (MonthError(month, now, out var start) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var name = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Name).FirstOrDefaultAsync(ct);
        if (name is null || !await SeesAsync(db, actor, accountId, ct)) return Errors.NotFound;
        var names = new Dictionary<Guid, string> { [accountId] = name };
        var statements = await StatementsAsync(db, [accountId], names, start, now, ct);
        return statements.GetValueOrDefault(accountId) ?? Empty(accountId, name, start, now);
    }

    /// <summary>
    /// A month's statements, one per account, paged by account name: a developer's accounts (every one, billed or not),
    /// or for those who see all, the accounts billed in the month or holding a stored statement for it.
    /// </summary>
    public async Task<Result<PagedResult<StatementSummary>>> ListAsync(Actor actor, StatementQuery query, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (Refusal(actor, query, now, out var start) is { } refused) return refused;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var page = await VisibleAccounts(db, actor, query, start)
            .OrderBy(a => a.Name).ThenBy(a => a.Id)
            .Select(a => new AccountName(a.Id, a.Name))
            .ToPageAsync(query, ct);
        var names = page.Items.ToDictionary(a => a.Id, a => a.Name);
        var statements = await StatementsAsync(db, names.Keys, names, start, now, ct);
        var items = page.Items.Select(a => Summary(statements.GetValueOrDefault(a.Id) ?? Empty(a.Id, a.Name, start, now))).ToList();
        return new PagedResult<StatementSummary>(items, page.Page, page.PageSize, page.Total);
    }

    /// <summary>A month over every account the caller sees: the totals per currency and per product (the admin view's head).</summary>
    public async Task<Result<MonthOverview>> OverviewAsync(Actor actor, StatementQuery query, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (Refusal(actor, query, now, out var start) is { } refused) return refused;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var statements = await AllVisibleAsync(db, actor, query, start, now, ct);
        var lines = statements.SelectMany(s => s.Lines).ToList();
        var products = lines
            .GroupBy(l => (l.ProductId, l.Currency))
            .Select(g => new ProductTotal(g.Key.ProductId, g.First().ProductName, g.Key.Currency, g.Count(), g.Sum(l => l.Calls), g.Sum(l => l.Amount)))
            .OrderBy(p => p.ProductName, StringComparer.OrdinalIgnoreCase).ThenBy(p => p.Currency, StringComparer.Ordinal)
            .ToList();
        return new MonthOverview(BillingMonth.Name(start), IsClosed(start, now) ? StatementStatus.Closed : StatementStatus.Estimate,
            statements.Count(s => s.Lines.Count > 0), lines.Count, Totals(lines), products);
    }

    /// <summary>
    /// Every line of the month's statements the caller sees (with the list's filters), account by account in name
    /// order: a CSV export. The statements are built first (frozen ones read, open ones priced), then handed out row by row.
    /// </summary>
    public async Task<Result<RowStream<StatementExportRow>>> ExportAsync(Actor actor, StatementQuery query, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        if (Refusal(actor, query, now, out var start) is { } refused) return refused;
        List<StatementDto> statements;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            statements = await AllVisibleAsync(db, actor, query, start, now, ct);
        return new RowStream<StatementExportRow>(Stream(statements));
    }

    /// <summary>The rows of one statement's CSV.</summary>
    public static RowStream<StatementExportRow> Rows(StatementDto statement) => new(Stream([statement]));

    /// <summary>
    /// Prices a closed month again at today's prices and stores it as the next revision, audited; the earlier revisions
    /// stay. Two admins re-issuing at once: one wins, the other gets a conflict.
    /// </summary>
    public async Task<Result<StatementDto>> ReissueAsync(Actor actor, Guid accountId, string? month, ReissueStatement request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsManage)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalidRequest) return invalidRequest;
        var now = clock.GetUtcNow();
        if (MonthError(month, now, out var start) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var name = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Name).FirstOrDefaultAsync(ct);
        if (name is null) return Errors.NotFound;
        if (!IsClosed(start, now)) return new MonthStillOpen(BillingMonth.Name(start));
        var previous = await LatestAsync(db, [accountId], start, ct);
        var lines = (await PriceAsync(db, [accountId], start, now, ct)).GetValueOrDefault(accountId) ?? [];
        var reason = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim();
        var row = new BillingStatement
        {
            AccountId = accountId, Month = start, Revision = (previous.GetValueOrDefault(accountId)?.Revision ?? 0) + 1,
            IssuedAt = now, IssuedBy = actor.UserId == Guid.Empty ? null : actor.UserId, Reason = reason,
            Lines = JsonSerializer.Serialize(lines, LineJson),
        };
        db.BillingStatements.Add(row);
        var before = previous.GetValueOrDefault(accountId) is { } old ? TotalsText(Totals(Read(old))) : "nothing stored";
        db.Audit.Add(AuditEntry.For(actor, AuditActions.StatementReissued, now, "account", accountId.ToString(), name,
            $"{BillingMonth.Name(start)} revision {row.Revision}: {before} -> {TotalsText(Totals(lines))}" + (reason is null ? "" : $"; {reason}")));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return new ConflictError("This statement was re-issued meanwhile: look at it again and retry.");
        }
        return Stored(row, name, start);
    }

    /// <summary>
    /// Stores every account's statement of a closed month that is not stored yet; answers how many this call stored
    /// (another instance may store some first: the unique revision keeps one of each).
    /// </summary>
    public async Task<int> CloseMonthAsync(DateTimeOffset month, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        month = BillableUsage.MonthStart(month);
        if (!IsClosed(month, now)) return 0;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var stored = await LatestAsync(db, null, month, ct);
        var billed = await BilledIn(db, month).Select(s => s.AccountId).Distinct().ToListAsync(ct);
        var missing = billed.Where(a => !stored.ContainsKey(a)).ToList();
        if (missing.Count == 0) return 0;
        var lines = await PriceAsync(db, missing, month, now, ct);
        return await StoreAsync(db, lines, month, now, ct);
    }

    private sealed record AccountName(Guid Id, string Name);

    private static Error? Refusal(Actor actor, StatementQuery query, DateTimeOffset now, out DateTimeOffset start)
    {
        start = default;
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        return MonthError(query.Month ?? BillingMonth.Name(now), now, out start);
    }

    /// <summary>A month the API can answer: well formed, and not after the current one (a future month has no statement yet).</summary>
    private static ValidationError? MonthError(string? month, DateTimeOffset now, out DateTimeOffset start)
    {
        start = default;
        if (BillingMonth.Parse(month) is not { } parsed) return ValidationError.For("month", "The month is written yyyy-MM, e.g. 2026-11.");
        if (parsed > BillableUsage.MonthStart(now)) return ValidationError.For("month", "The month has not begun yet.");
        start = parsed;
        return null;
    }

    private static async Task<bool> SeesAsync(PortalDbContext db, Actor actor, Guid accountId, CancellationToken ct) =>
        actor.Can(Permission.UsageReadAll) || await db.AccountMembers.AnyAsync(m => m.AccountId == accountId && m.UserId == actor.UserId, ct);

    private static IQueryable<Account> VisibleAccounts(PortalDbContext db, Actor actor, StatementQuery query, DateTimeOffset start)
    {
        var accounts = db.Accounts.AsNoTracking();
        if (!actor.Can(Permission.UsageReadAll))
        {
            accounts = accounts.Where(a => db.AccountMembers.Any(m => m.AccountId == a.Id && m.UserId == actor.UserId));
        }
        else
        {
            var billed = BilledIn(db, start).Select(s => s.AccountId);
            var stored = db.BillingStatements.Where(s => s.Month == start).Select(s => s.AccountId);
            accounts = accounts.Where(a => billed.Contains(a.Id) || stored.Contains(a.Id));
        }
        if (query.AccountId is { } id) accounts = accounts.Where(a => a.Id == id);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLower();
            accounts = accounts.Where(a => a.Name.ToLower().Contains(term));
        }
        return accounts;
    }

    /// <summary>Every statement the caller sees in the month with the query's filters, in account name order (no paging).</summary>
    private async Task<List<StatementDto>> AllVisibleAsync(PortalDbContext db, Actor actor, StatementQuery query, DateTimeOffset start, DateTimeOffset now, CancellationToken ct)
    {
        var everyone = actor.Can(Permission.UsageReadAll) && query.AccountId is null && string.IsNullOrWhiteSpace(query.Search);
        var accounts = await VisibleAccounts(db, actor, query, start)
            .OrderBy(a => a.Name).ThenBy(a => a.Id)
            .Select(a => new AccountName(a.Id, a.Name))
            .ToListAsync(ct);
        var names = accounts.ToDictionary(a => a.Id, a => a.Name);
        // Every account: one pass over the month instead of the accounts' ids in chunks.
        var statements = await StatementsAsync(db, everyone ? null : names.Keys, names, start, now, ct);
        return [.. accounts.Select(a => statements.GetValueOrDefault(a.Id) ?? Empty(a.Id, a.Name, start, now))];
    }

    /// <summary>
    /// The statements of <paramref name="accountIds"/> (null: every account) that have lines or are stored; an account
    /// with neither is absent. A closed month reads what is stored and stores what is not yet (the first read freezes it).
    /// </summary>
    private async Task<Dictionary<Guid, StatementDto>> StatementsAsync(PortalDbContext db, IReadOnlyCollection<Guid>? accountIds,
        Dictionary<Guid, string> names, DateTimeOffset start, DateTimeOffset now, CancellationToken ct)
    {
        var result = new Dictionary<Guid, StatementDto>();
        string NameOf(Guid id) => names.GetValueOrDefault(id) ?? "";
        if (!IsClosed(start, now))
        {
            foreach (var (accountId, lines) in await PriceAsync(db, accountIds, start, now, ct))
                result[accountId] = Estimate(accountId, NameOf(accountId), start, now, lines);
            return result;
        }

        var stored = await LatestAsync(db, accountIds, start, ct);
        List<Guid> missing;
        if (accountIds is null)
        {
            var billed = await BilledIn(db, start).Select(s => s.AccountId).Distinct().ToListAsync(ct);
            missing = [.. billed.Where(a => !stored.ContainsKey(a))];
        }
        else
        {
            missing = [.. accountIds.Where(a => !stored.ContainsKey(a))];
        }
        if (missing.Count > 0)
        {
            var priced = await PriceAsync(db, missing, start, now, ct);
            if (priced.Count > 0)
            {
                await StoreAsync(db, priced, start, now, ct);
                foreach (var (accountId, row) in await LatestAsync(db, priced.Keys, start, ct)) stored[accountId] = row;
            }
        }
        foreach (var (accountId, row) in stored) result[accountId] = Stored(row, NameOf(accountId), start);
        return result;
    }

    /// <summary>Inserts revision 1 of each account's statement where none is stored: all at once, or one by one when another instance got to some first.</summary>
    private async Task<int> StoreAsync(PortalDbContext db, Dictionary<Guid, List<StatementLine>> lines, DateTimeOffset start, DateTimeOffset now, CancellationToken ct)
    {
        var rows = lines.Where(p => p.Value.Count > 0)
            .Select(p => new BillingStatement { AccountId = p.Key, Month = start, Revision = 1, IssuedAt = now, Lines = JsonSerializer.Serialize(p.Value, LineJson) })
            .ToList();
        if (rows.Count == 0) return 0;
        foreach (var chunk in rows.Chunk(500))
        {
            db.BillingStatements.AddRange(chunk);
            try
            {
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
                continue;
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
            }
            foreach (var row in chunk)
            {
                row.Id = Guid.CreateVersion7();
                db.BillingStatements.Add(row);
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException)
                {
                    // Stored meanwhile by another instance (or reader): theirs is the statement.
                    row.Revision = 0;
                }
                db.ChangeTracker.Clear();
            }
        }
        var storedHere = rows.Count(r => r.Revision == 1);
        if (storedHere > 0) logger.LogInformation("Stored {Count} statements of {Month}", storedHere, BillingMonth.Name(start));
        return storedHere;
    }

    /// <summary>The highest revision per account in the month (null: every account).</summary>
    private static async Task<Dictionary<Guid, BillingStatement>> LatestAsync(PortalDbContext db, IReadOnlyCollection<Guid>? accountIds, DateTimeOffset start, CancellationToken ct)
    {
        var result = new Dictionary<Guid, BillingStatement>();
        async Task ReadAsync(IQueryable<BillingStatement> rows)
        {
            // Revisions are few (re-issues are rare): read them all and keep the highest, rather than a per-engine top-1 per group.
            foreach (var row in await rows.AsNoTracking().ToListAsync(ct))
                if (!result.TryGetValue(row.AccountId, out var seen) || seen.Revision < row.Revision) result[row.AccountId] = row;
        }
        var month = db.BillingStatements.Where(s => s.Month == start);
        if (accountIds is null) await ReadAsync(month);
        else foreach (var chunk in accountIds.Chunk(500)) await ReadAsync(month.Where(s => chunk.Contains(s.AccountId)));
        return result;
    }

    /// <summary>
    /// Billed in the month: it had billable calls in it, or it was APPROVED during some part of it (approved before the
    /// month's end, and still approved or unsubscribed no earlier than the month's start). The one statement of the rule:
    /// statements and the quota panels' cost both ask it.
    /// </summary>
    internal static IQueryable<Subscription> BilledIn(PortalDbContext db, DateTimeOffset start)
    {
        var end = start.AddMonths(1);
        return db.Subscriptions.AsNoTracking().Where(s =>
            (s.DecidedAt != null && s.DecidedAt < end
                && (s.Status == SubscriptionStatus.Approved || (s.Status == SubscriptionStatus.Unsubscribed && s.EndedAt >= start)))
            || db.QuotaCounters.Any(c => c.SubscriptionId == s.Id && c.PeriodStart >= start && c.PeriodStart < end));
    }

    private sealed record Billed(Guid Id, Guid AccountId, Guid? ApplicationId, string ApplicationName, Guid ProductId, string ProductName, Guid PlanId);

    /// <summary>Today's prices of each account's billed subscriptions in the month (null: every account); accounts without one are absent.</summary>
    private static async Task<Dictionary<Guid, List<StatementLine>>> PriceAsync(PortalDbContext db, IReadOnlyCollection<Guid>? accountIds,
        DateTimeOffset start, DateTimeOffset now, CancellationToken ct)
    {
        IQueryable<Billed> Project(IQueryable<Subscription> subscriptions) =>
            from s in subscriptions
            join p in db.Products on s.ProductId equals p.Id
            join a in db.Applications on s.ApplicationId equals a.Id into apps
            from a in apps.DefaultIfEmpty()
            select new Billed(s.Id, s.AccountId, s.ApplicationId, a == null ? s.ApplicationName : a.Name, s.ProductId, p.Name, s.PlanId);

        var billed = new List<Billed>();
        Dictionary<Guid, long> calls;
        if (accountIds is null)
        {
            billed = await Project(BilledIn(db, start)).ToListAsync(ct);
            calls = await BillableUsage.AllCallsAsync(db, start, ct);
        }
        else
        {
            foreach (var chunk in accountIds.Chunk(500))
                billed.AddRange(await Project(BilledIn(db, start).Where(s => chunk.Contains(s.AccountId))).ToListAsync(ct));
            calls = await BillableUsage.CallsAsync(db, [.. billed.Select(b => b.Id)], start, ct);
        }
        var planIds = billed.Select(b => b.PlanId).Distinct().ToList();
        var plans = new Dictionary<Guid, Plan>();
        foreach (var chunk in planIds.Chunk(500))
            foreach (var plan in await db.Plans.AsNoTracking().Where(p => chunk.Contains(p.Id)).ToListAsync(ct))
                plans[plan.Id] = plan;

        // The current month projects each line to the month's end; a month that has ended (closing) projects to itself.
        var end = start.AddMonths(1);
        double? elapsed = IsClosed(start, now) ? null : Math.Clamp((now - start) / (end - start), 0, 1);
        var result = new Dictionary<Guid, List<StatementLine>>();
        foreach (var b in billed.OrderBy(b => b.ApplicationName, StringComparer.OrdinalIgnoreCase).ThenBy(b => b.ProductName, StringComparer.OrdinalIgnoreCase).ThenBy(b => b.Id))
        {
            var plan = plans[b.PlanId];
            var used = calls.GetValueOrDefault(b.Id);
            var charge = PlanPricing.Price(plan, used);
            long? projectedCalls = null;
            decimal? projectedAmount = null;
            if (elapsed is { } fraction)
            {
                projectedCalls = fraction > 0 ? (long)Math.Round(used / fraction) : used;
                projectedAmount = PlanPricing.Price(plan, projectedCalls.Value).Amount;
            }
            var line = new StatementLine(b.Id, b.ApplicationId, b.ApplicationName, b.ProductId, b.ProductName, plan.Id, plan.Name, plan.Type,
                charge.Currency, used, charge.Amount, charge.Bands, charge.MinimumApplied, projectedCalls, projectedAmount);
            if (!result.TryGetValue(b.AccountId, out var lines)) result[b.AccountId] = lines = [];
            lines.Add(line);
        }
        return result;
    }

    private static List<StatementLine> Read(BillingStatement row) => JsonSerializer.Deserialize<List<StatementLine>>(row.Lines, LineJson) ?? [];

    private static StatementDto Stored(BillingStatement row, string accountName, DateTimeOffset start)
    {
        var lines = Read(row);
        return new StatementDto(row.AccountId, accountName, BillingMonth.Name(start), start, start.AddMonths(1), StatementStatus.Closed,
            row.Revision, row.IssuedAt, row.Reason, lines, Totals(lines), null);
    }

    private static StatementDto Estimate(Guid accountId, string accountName, DateTimeOffset start, DateTimeOffset now, List<StatementLine> lines)
    {
        var end = start.AddMonths(1);
        var projected = lines.GroupBy(l => l.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CurrencyTotal(g.Key, g.Sum(l => l.ProjectedAmount ?? l.Amount), g.Sum(l => l.ProjectedCalls ?? l.Calls)))
            .ToList();
        return new StatementDto(accountId, accountName, BillingMonth.Name(start), start, end, StatementStatus.Estimate, null, null, null,
            lines, Totals(lines), new StatementProjection(now, Math.Clamp((now - start) / (end - start), 0, 1), projected));
    }

    private static StatementDto Empty(Guid accountId, string accountName, DateTimeOffset start, DateTimeOffset now) =>
        IsClosed(start, now)
            ? new StatementDto(accountId, accountName, BillingMonth.Name(start), start, start.AddMonths(1), StatementStatus.Closed, null, null, null, [], [], null)
            : Estimate(accountId, accountName, start, now, []);

    private static List<CurrencyTotal> Totals(IEnumerable<StatementLine> lines) =>
        [.. lines.GroupBy(l => l.Currency, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CurrencyTotal(g.Key, g.Sum(l => l.Amount), g.Sum(l => l.Calls)))];

    private static string TotalsText(IReadOnlyList<CurrencyTotal> totals) =>
        totals.Count == 0 ? "nothing" : string.Join(", ", totals.Select(t => $"{t.Currency} {t.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));

    private static StatementSummary Summary(StatementDto s) =>
        new(s.AccountId, s.AccountName, s.Month, s.Status, s.Revision, s.Lines.Count, s.Lines.Sum(l => l.Calls), s.Totals, s.Projection?.Totals);

    private static async IAsyncEnumerable<StatementExportRow> Stream(IReadOnlyList<StatementDto> statements)
    {
        await Task.CompletedTask;
        foreach (var s in statements)
            foreach (var line in s.Lines)
                yield return new StatementExportRow(s.AccountId, s.AccountName, s.Month, s.Status, s.Revision, line);
    }
}
