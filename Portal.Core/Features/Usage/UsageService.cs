using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The Usage feature: the overview of a window (calls, errors, verifications, keys, series and top lists) and the
/// request log. Every figure of the overview comes from rollups that stay small (<see cref="UsageRollupWriter"/>):
/// those with <see cref="Permission.UsageReadAll"/> read the portal-wide ones (per hour; per hour and code; top lists by
/// <see cref="UsageTop"/>), others the rows of their own personal keys and of their accounts' applications and keys.
/// </summary>
public sealed class UsageService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, UsageTopBases? bases = null)
{
    /// <summary>Without 'from', a summary is of this many UTC days: the day of 'to' (or today) and the days before it.</summary>
    public const int DefaultDays = 7;
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(366);

    /// <summary>
    /// The times a window may start or end at: wide enough for any real usage, narrow enough that widening a window to
    /// whole buckets (or counting back the default window) never leaves the range of <see cref="DateTimeOffset"/>.
    /// </summary>
    public static readonly DateTimeOffset EarliestTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset LatestTime = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Windows up to this long are shown per hour, longer ones per day.</summary>
    public static readonly TimeSpan MaxHourlyWindow = TimeSpan.FromHours(48);

    private const int TopCount = 5;

    public async Task<Result<UsageSummary>> SummaryAsync(Actor actor, UsageSummaryQuery query, CancellationToken ct = default)
    {
        var window = WindowOf(actor, query);
        if (!window.IsSuccess) return window.Error!;
        var (now, from, to, step) = window.Value;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var scope = await ScopeOfAsync(db, actor, ct);
        var calls = await CallsOfAsync(db, scope, window.Value, ct);
        var codes = await OutcomesAsync(db, scope, from, to, ct);
        codes = [.. codes.OrderByDescending(c => c.Count).ThenBy(c => c.Code, StringComparer.Ordinal)];
        var valid = codes.Where(c => c.Code == VerifyOutcomes.Valid).Sum(c => c.Count);
        var verified = codes.Sum(c => c.Count);

        var keys = VisibleKeys(db, actor);
        var issued = await keys.CountAsync(k => k.CreatedAt >= from && k.CreatedAt < to, ct);
        var active = await keys.CountAsync(k => k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now), ct);

        var span = step == TimeSpan.FromHours(1) ? UsageSpan.Hour : UsageSpan.Day;
        var (applications, applicationsBound) = await TopApplicationsAsync(db, scope, span, window.Value, ct);
        var (products, productsBound) = await TopProductsAsync(db, scope, span, window.Value, ct);
        var (topKeys, keysBound) = await TopKeysAsync(db, scope, span, window.Value, ct);
        return new UsageSummary(from, to, calls.Interval, calls.Calls, calls.Errors, calls.ErrorRate,
            new VerificationTotals(verified, valid, verified - valid, codes),
            new KeyTotals(issued, active),
            calls.Series,
            applications, products, topKeys,
            applicationsBound is null && productsBound is null && keysBound is null
                ? null
                : new UsageTopBounds(applicationsBound, productsBound, keysBound));
    }

    /// <summary>
    /// Only the calls and errors of a window, per bucket, as in <see cref="SummaryAsync"/> (same window, permission and
    /// scope): for charts that show nothing else (the dashboard's).
    /// </summary>
    public async Task<Result<UsageCalls>> CallsAsync(Actor actor, UsageSummaryQuery query, CancellationToken ct = default)
    {
        var window = WindowOf(actor, query);
        if (!window.IsSuccess) return window.Error!;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await CallsOfAsync(db, await ScopeOfAsync(db, actor, ct), window.Value, ct);
    }

    /// <summary>
    /// Whose usage a summary counts: null for everything (the portal-wide rollups), else the ids of the keys and
    /// applications the actor sees (their own personal keys, their accounts' applications and those applications'
    /// keys), few enough to read their rows through the rollups' keys, which lead with the id.
    /// </summary>
    private sealed record Scope(List<Guid> KeyIds, List<Guid> ApplicationIds);

    private static async Task<Scope?> ScopeOfAsync(PortalDbContext db, Actor actor, CancellationToken ct)
    {
        if (actor.Can(Permission.UsageReadAll)) return null;
        return new Scope(await VisibleKeys(db, actor).Select(k => k.Id).ToListAsync(ct), await OwnApplicationIds(db, actor).ToListAsync(ct));
    }

    /// <summary>The window's calls and errors per hour: the portal's hourly totals, or the scope's keys' hourly rows.</summary>
    private static async Task<UsageCalls> CallsOfAsync(PortalDbContext db, Scope? scope, Window window, CancellationToken ct)
    {
        var (_, from, to, _) = window;
        // At most one row per hour of the window (8,784 for a year), folded into days in SeriesOf.
        var perHour = scope is null
            ? await db.UsageHours.AsNoTracking().Where(h => h.HourStart >= from && h.HourStart < to)
                .Select(h => new HourCalls(h.HourStart, h.Calls, h.Errors)).ToListAsync(ct)
            : await db.UsageRollups.AsNoTracking()
                .Where(r => scope.KeyIds.Contains(r.KeyId) && r.HourStart >= from && r.HourStart < to)
                .GroupBy(r => r.HourStart)
                .Select(g => new HourCalls(g.Key, g.Sum(r => r.Count), g.Sum(r => r.Errors))).ToListAsync(ct);
        return SeriesOf(perHour, window);
    }

    private sealed record HourCalls(DateTimeOffset Hour, long Calls, long Errors);

    /// <summary>Verifications per answer code: the portal's hourly counts per code, or the scope's keys' verifications.</summary>
    private static async Task<List<OutcomeCount>> OutcomesAsync(PortalDbContext db, Scope? scope, DateTimeOffset from, DateTimeOffset to, CancellationToken ct) =>
        scope is null
            ? await db.UsageOutcomeHours.AsNoTracking().Where(o => o.HourStart >= from && o.HourStart < to)
                .GroupBy(o => o.Outcome).Select(g => new OutcomeCount(g.Key, g.Sum(o => o.Count))).ToListAsync(ct)
            : await db.UsageVerificationHours.AsNoTracking()
                .Where(v => scope.KeyIds.Contains(v.KeyId) && v.HourStart >= from && v.HourStart < to)
                .GroupBy(v => v.Outcome).Select(g => new OutcomeCount(g.Key, g.Sum(v => v.Count))).ToListAsync(ct);

    /// <summary>A summary's window widened to whole buckets of <see cref="Step"/>; <see cref="Now"/> as the clock read it.</summary>
    private readonly record struct Window(DateTimeOffset Now, DateTimeOffset From, DateTimeOffset To, TimeSpan Step);

    private Result<Window> WindowOf(Actor actor, UsageSummaryQuery query)
    {
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        if (TimesOutOfRange(query.From, query.To) is { } outOfRange) return outOfRange;
        var now = clock.GetUtcNow();
        var until = (query.To ?? now).ToUniversalTime();
        // The same 7 whole days as the overview's "7 days" (not 7 × 24 hours back, which would touch 8 days).
        var since = (query.From ?? UsageBuckets.Align(until.AddTicks(-1), TimeSpan.FromDays(1)).AddDays(1 - DefaultDays)).ToUniversalTime();
        if (until <= since) return ValidationError.For("to", "'to' must be after 'from'.");
        if (until - since > MaxWindow) return ValidationError.For("from", "A usage summary covers at most 366 days.");
        var step = until - since <= MaxHourlyWindow ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        // Whole buckets: the totals are then the sums of the series, and rollups (per hour) answer them exactly.
        return new Window(now, UsageBuckets.Align(since, step), UsageBuckets.Align(until.AddTicks(-1), step) + step, step);
    }

    /// <summary>The window's zero-filled series from its hourly counts, and its totals.</summary>
    private static UsageCalls SeriesOf(List<HourCalls> perHour, Window window)
    {
        var (_, from, to, step) = window;
        var byBucket = perHour.GroupBy(h => UsageBuckets.Align(h.Hour, step)).ToDictionary(g => g.Key, g => (Calls: g.Sum(h => h.Calls), Errors: g.Sum(h => h.Errors)));
        var series = new List<UsageSeriesPoint>();
        for (var start = from; start < to; start += step)
        {
            var (calls, errors) = byBucket.GetValueOrDefault(start);
            series.Add(new UsageSeriesPoint(start, calls, errors));
        }
        var totalCalls = series.Sum(p => p.Calls);
        var totalErrors = series.Sum(p => p.Errors);
        return new UsageCalls(from, to, step == TimeSpan.FromHours(1) ? "hour" : "day", totalCalls, totalErrors,
            totalCalls == 0 ? 0 : Math.Round((double)totalErrors / totalCalls, 4), series);
    }

    /// <summary>The request log's total is exact up to this many rows; past it, it is this and says "at least".</summary>
    public const int RequestTotalBound = 10_000;

    /// <summary>Pages by number (offset) reach this many rows; deeper pages follow the cursor.</summary>
    public const int MaxOffsetRows = 10_000;

    /// <summary>
    /// The request log, newest first: keyset paging by <see cref="UsageRequestQuery.Cursor"/> (or page numbers for the
    /// first <see cref="MaxOffsetRows"/> rows), a total bounded at <see cref="RequestTotalBound"/>; see <see cref="RequestLog"/>.
    /// </summary>
    public async Task<Result<UsageRequestPage>> ListRequestsAsync(Actor actor, UsageRequestQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (TimesOutOfRange(query.From, query.To) is { } outOfRange) return outOfRange;
        if (query.From >= query.To) return ValidationError.For("to", "'to' must be after 'from'.");
        if (!StatusFilter.TryParse(query.Status, out var status))
            return ValidationError.For("status", "Status is a code (404), a class (2xx, 3xx, 4xx, 5xx) or 'error'.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await RequestLog.ListAsync(db, actor, query, status, ct);
    }

    /// <summary>
    /// Every row <see cref="ListRequestsAsync"/> would page through with the same filters (paging and cursor ignored), in
    /// the same order, streamed from the database in keyset batches as the caller reads it (a CSV export).
    /// </summary>
    public Task<Result<RowStream<UsageRequestDto>>> ExportRequestsAsync(Actor actor, UsageRequestQuery query, CancellationToken ct = default) =>
        Task.FromResult(ExportRequests(actor, query with { Page = 1, Cursor = null }));

    private Result<RowStream<UsageRequestDto>> ExportRequests(Actor actor, UsageRequestQuery query)
    {
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (TimesOutOfRange(query.From, query.To) is { } outOfRange) return outOfRange;
        if (query.From >= query.To) return ValidationError.For("to", "'to' must be after 'from'.");
        if (!StatusFilter.TryParse(query.Status, out var status))
            return ValidationError.For("status", "Status is a code (404), a class (2xx, 3xx, 4xx, 5xx) or 'error'.");
        return new RowStream<UsageRequestDto>(RequestLog.StreamAsync(dbFactory, actor, query, status));
    }

    /// <summary>A validation error naming each of 'from' and 'to' given outside <see cref="EarliestTime"/>..<see cref="LatestTime"/>.</summary>
    private static ValidationError? TimesOutOfRange(DateTimeOffset? from, DateTimeOffset? to)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, at) in new[] { ("from", from), ("to", to) })
            if (at is { } value && (value < EarliestTime || value > LatestTime))
                errors[field] = [$"'{field}' must be between {EarliestTime.Year} and {LatestTime.Year}."];
        return errors.Count == 0 ? null : new ValidationError(errors);
    }

    /// <summary>One request of the log; not found also when it is someone else's.</summary>
    public async Task<Result<UsageRequestDto>> GetRequestAsync(Actor actor, long id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.UsageRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var found = await VisibleEvents(db, actor).FirstOrDefaultAsync(e => e.Id == id, ct);
        if (found is null) return Errors.NotFound;
        var dto = (await NamesAsync(db, [found], ct)).ToDto(found);
        return dto with { Explanation = await RequestExplanation.ExplainAsync(db, found, dto, ct) };
    }

    /// <summary>Keys whose usage the actor sees: all, or their own personal keys and their accounts' applications' keys.</summary>
    private static IQueryable<ApiKey> VisibleKeys(PortalDbContext db, Actor actor)
    {
        var keys = db.ApiKeys.AsNoTracking();
        if (actor.Can(Permission.UsageReadAll)) return keys;
        var apps = OwnApplicationIds(db, actor);
        return keys.Where(k => k.OwnerUserId == actor.UserId || (k.ApplicationId != null && apps.Contains(k.ApplicationId.Value)));
    }

    /// <summary>Events are the caller's by the personal key's owner kept on them, or by the application they were for.</summary>
    private static IQueryable<UsageEvent> VisibleEvents(PortalDbContext db, Actor actor)
    {
        var events = db.UsageEvents.AsNoTracking();
        if (actor.Can(Permission.UsageReadAll)) return events;
        var apps = OwnApplicationIds(db, actor);
        return events.Where(e => e.OwnerUserId == actor.UserId || (e.ApplicationId != null && apps.Contains(e.ApplicationId.Value)));
    }

    private static IQueryable<Guid> OwnApplicationIds(PortalDbContext db, Actor actor) =>
        db.Applications.Where(a => Membership.AccountIdsOf(db, actor).Contains(a.AccountId)).Select(a => a.Id);

    /// <summary>
    /// The <see cref="TopCount"/> biggest of a rollup over the window: portal-wide by <see cref="UsageTop"/> (from the
    /// precomputed part of a standard window when there is one), possibly with a bound; for a scope, a grouped read of
    /// its own ids' rows (<paramref name="scoped"/>), always exact.
    /// </summary>
    private async Task<TopList> TopOfAsync(
        PortalDbContext db, Scope? scope, UsageTop.Source source, Window window, Func<Scope, IQueryable<IdCalls>> scoped, CancellationToken ct)
    {
        if (scope is null)
            return await UsageTop.TopAsync(db, source, window.From, window.To, window.Step, TopCount, ct,
                bases is null ? null : await bases.FindAsync(db, source, window.From, window.To, ct));
        var top = await scoped(scope).GroupBy(r => r.Id).Select(g => new { Id = g.Key, Calls = g.Sum(r => r.Calls) })
            .OrderByDescending(x => x.Calls).ThenBy(x => x.Id).Take(TopCount).ToListAsync(ct);
        return new TopList([.. top.Select(t => (t.Id, t.Calls))], null);
    }

    /// <summary>A row of a scoped top list (member-initialised: EF groups by its members).</summary>
    private sealed class IdCalls
    {
        public Guid Id { get; init; }
        public long Calls { get; init; }
    }

    /// <summary>Calls made with application keys (their own API calls and the verifications of them), per application.</summary>
    private async Task<(IReadOnlyList<UsageTopItem>, long?)> TopApplicationsAsync(PortalDbContext db, Scope? scope, UsageSpan span, Window window, CancellationToken ct)
    {
        var (_, from, to, _) = window;
        var (top, bound) = await TopOfAsync(db, scope, UsageTop.Applications(span), window, s => db.UsageApplicationRollups.AsNoTracking()
            .Where(r => s.ApplicationIds.Contains(r.ApplicationId) && r.Span == span && r.Start >= from && r.Start < to)
            .Select(r => new IdCalls { Id = r.ApplicationId, Calls = r.Calls }), ct);
        var ids = top.Select(t => t.Id).ToList();
        var apps = await (from a in db.Applications
                          join acc in db.Accounts on a.AccountId equals acc.Id
                          where ids.Contains(a.Id)
                          select new { a.Id, a.Name, Account = acc.Name }).ToDictionaryAsync(a => a.Id, ct);
        return ([.. top.Select(t => apps.TryGetValue(t.Id, out var a)
            ? new UsageTopItem(t.Id, a.Name, a.Account, t.Calls)
            : new UsageTopItem(t.Id, "(removed application)", null, t.Calls))], bound);
    }

    /// <summary>Verifications asked about each product, and calls through the gateway to it (each of which is verified).</summary>
    private async Task<(IReadOnlyList<UsageTopItem>, long?)> TopProductsAsync(PortalDbContext db, Scope? scope, UsageSpan span, Window window, CancellationToken ct)
    {
        var (_, from, to, _) = window;
        var (top, bound) = await TopOfAsync(db, scope, UsageTop.Products(span), window, s => db.UsageVerificationHours.AsNoTracking()
            .Where(v => s.KeyIds.Contains(v.KeyId) && v.ProductId != Guid.Empty && v.HourStart >= from && v.HourStart < to)
            .Select(v => new IdCalls { Id = v.ProductId, Calls = v.Count }), ct);
        var ids = top.Select(t => t.Id).ToList();
        var products = await db.Products.Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => (p.Name, p.Slug), ct);
        return ([.. top.Select(t => products.TryGetValue(t.Id, out var p)
            ? new UsageTopItem(t.Id, p.Name, p.Slug, t.Calls)
            : new UsageTopItem(t.Id, "(deleted product)", null, t.Calls))], bound);
    }

    private async Task<(IReadOnlyList<UsageTopItem>, long?)> TopKeysAsync(PortalDbContext db, Scope? scope, UsageSpan span, Window window, CancellationToken ct)
    {
        var (_, from, to, _) = window;
        var (top, bound) = span == UsageSpan.Hour
            ? await TopOfAsync(db, scope, UsageTop.KeyHours, window, s => db.UsageRollups.AsNoTracking()
                .Where(r => s.KeyIds.Contains(r.KeyId) && r.HourStart >= from && r.HourStart < to)
                .Select(r => new IdCalls { Id = r.KeyId, Calls = r.Count }), ct)
            : await TopOfAsync(db, scope, UsageTop.KeyDays, window, s => db.UsageKeyDays.AsNoTracking()
                .Where(d => s.KeyIds.Contains(d.KeyId) && d.Day >= from && d.Day < to)
                .Select(d => new IdCalls { Id = d.KeyId, Calls = d.Calls }), ct);
        var ids = top.Select(t => t.Id).ToList();
        var keys = await KeyNamesAsync(db, ids, ct);
        return ([.. top.Select(t => keys.TryGetValue(t.Id, out var k)
            ? new UsageTopItem(t.Id, k.Name, k.Masked, t.Calls)
            : new UsageTopItem(t.Id, "(deleted key)", null, t.Calls))], bound);
    }

    /// <summary>
    /// A key as people know it: a personal key by its name, an application key (all named "application key") by its
    /// application's name; the masked key tells two apart.
    /// </summary>
    private static async Task<Dictionary<Guid, (string Name, string Masked)>> KeyNamesAsync(PortalDbContext db, List<Guid> ids, CancellationToken ct)
    {
        var rows = await (from k in db.ApiKeys
                          where ids.Contains(k.Id)
                          join a in db.Applications on k.ApplicationId equals a.Id into apps
                          from a in apps.DefaultIfEmpty()
                          select new { k.Id, k.Name, App = a == null ? null : a.Name, k.Start, k.Last4 }).ToListAsync(ct);
        return rows.ToDictionary(k => k.Id, k => (k.App is null ? k.Name : $"{k.App} key", ApiKeyFormat.Mask(k.Start, k.Last4)));
    }

    /// <summary>The names of a page's keys, applications and products: three small lookups by id.</summary>
    internal static async Task<Names> NamesAsync(PortalDbContext db, IReadOnlyList<UsageEvent> events, CancellationToken ct)
    {
        var keyIds = events.Where(e => e.KeyId != null).Select(e => e.KeyId!.Value).Distinct().ToList();
        var appIds = events.Where(e => e.ApplicationId != null).Select(e => e.ApplicationId!.Value).Distinct().ToList();
        var productIds = events.Where(e => e.ProductId != null).Select(e => e.ProductId!.Value).Distinct().ToList();
        var keys = await KeyNamesAsync(db, keyIds, ct);
        var apps = await db.Applications.Where(a => appIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var products = await db.Products.Where(p => productIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Name, ct);
        return new Names(keys.ToDictionary(k => k.Key, k => k.Value.Name), apps, products);
    }

    internal sealed record Names(Dictionary<Guid, string> Keys, Dictionary<Guid, string> Applications, Dictionary<Guid, string> Products)
    {
        public UsageRequestDto ToDto(UsageEvent e) => new(
            e.Id, e.At, e.KeyId, Name(Keys, e.KeyId), e.ApplicationId, Name(Applications, e.ApplicationId),
            e.ProductId, Name(Products, e.ProductId), e.Method, e.Route, e.Status, e.LatencyMs, e.Outcome,
            e.Source, e.AccountId, e.Path, e.RequestBytes, e.ResponseBytes, e.UpstreamLatencyMs,
            e.ClientAddress, e.UserAgent, e.LimitValue, e.LimitUsed, e.LimitResetAt);

        private static string? Name(Dictionary<Guid, string> names, Guid? id) => id is { } v ? names.GetValueOrDefault(v) : null;
    }
}

public static class UsageBuckets
{
    /// <summary>The start (UTC) of the bucket of length <paramref name="step"/> holding <paramref name="at"/>.</summary>
    public static DateTimeOffset Align(DateTimeOffset at, TimeSpan step)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.UtcTicks - utc.UtcTicks % step.Ticks, TimeSpan.Zero);
    }
}

/// <summary>A status filter of the request log as an inclusive range: <c>404</c>, <c>4xx</c> or <c>error</c>.</summary>
public readonly record struct StatusFilter(int Min, int Max)
{
    public static bool TryParse(string? text, out StatusFilter? filter)
    {
        filter = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        var value = text.Trim().ToLowerInvariant();
        if (value == "error") filter = new StatusFilter(400, 599);
        else if (value.Length == 3 && value.EndsWith("xx", StringComparison.Ordinal) && value[0] is >= '1' and <= '5')
            filter = new StatusFilter((value[0] - '0') * 100, (value[0] - '0') * 100 + 99);
        else if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code) && code is >= 100 and <= 599)
            filter = new StatusFilter(code, code);
        return filter is not null;
    }
}
