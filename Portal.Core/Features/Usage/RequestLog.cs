using System.Buffers.Text;
using System.Globalization;
using System.Linq.Expressions;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Accounts;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The request log's queries, built so that every page is a handful of index range scans whatever the table holds.
/// <para>
/// A page is read in (At, Id) order, newest first, after a cursor (keyset paging) or, for the first pages, by offset.
/// Every equality filter leads an index that ends in (At, Id) (<see cref="UsageEventConfiguration"/>), so a filtered
/// page is one range scan. A filter that matches several values of an indexed column (a status class, a route search,
/// a developer's own keys and applications) is split into one branch per value, each a range scan of its own index
/// read in (At, Id) order, merged here: the values come from a skip scan of the column's index (one index seek per
/// distinct value, a recursive query), never from the rows. Too many branches collapse into one filtered query.
/// </para>
/// <para>
/// The total is counted branch by branch and stops at <see cref="UsageService.RequestTotalBound"/> + 1 rows
/// (<c>SELECT COUNT(*) FROM (SELECT 1 … LIMIT n)</c>): past the bound the answer says "at least".
/// </para>
/// </summary>
internal static class RequestLog
{
    /// <summary>More branches than this become one query with an IN list or a range (a wide filter: rows are dense).</summary>
    internal const int MaxBranches = 32;

    /// <summary>
    /// Route search looks among at most this many distinct routes (they are route templates: dozens); with more, it
    /// falls back to matching every row's route.
    /// </summary>
    internal const int MaxDistinctRoutes = 2_000;

    public static async Task<Result<UsageRequestPage>> ListAsync(PortalDbContext db, Actor actor, UsageRequestQuery query, StatusFilter? status, CancellationToken ct)
    {
        RequestCursor? after = null;
        if (!string.IsNullOrEmpty(query.Cursor))
        {
            if (!RequestCursor.TryDecode(query.Cursor, out var decoded))
                return ValidationError.For("cursor", "Not a cursor of this list: pass 'nextCursor' from a previous page unchanged.");
            after = decoded;
        }
        var take = query.Take;
        var skip = after is null ? query.Skip : 0;
        if (skip + take > UsageService.MaxOffsetRows)
            return ValidationError.For("page", $"Pages by number reach the first {UsageService.MaxOffsetRows:N0} rows; beyond them, follow 'nextCursor'.");
        var pageNumber = after?.Page ?? Math.Max(query.Page, 1);

        var branches = await BranchesAsync(db, actor, query, status, ct);
        if (branches.Count == 0) return new UsageRequestPage([], pageNumber, take, 0, false, null);

        var rows = new List<UsageEvent>();
        foreach (var branch in branches)
            rows.AddRange(await After(branch, after).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(skip + take + 1).ToListAsync(ct));
        var merged = rows.DistinctBy(e => e.Id).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Skip(skip).Take(take + 1).ToList();
        var items = merged.Take(take).ToList();
        var next = merged.Count > take ? new RequestCursor(items[^1].At.UtcTicks, items[^1].Id, pageNumber + 1).Encode() : null;

        var (total, lowerBound) = await BoundedCountAsync(branches, ct);
        var names = await UsageService.NamesAsync(db, items, ct);
        return new UsageRequestPage([.. items.Select(names.ToDto)], pageNumber, take, total, lowerBound, next);
    }

    /// <summary>Rows per read of an export: one range scan per branch, then the names of that batch's keys, applications and products.</summary>
    internal const int ExportBatch = 1_000;

    /// <summary>
    /// Every row of the log that the list would page through with the same filters, in the same order, read a batch at
    /// a time by keyset (the list's own cursor), so an export of millions of rows holds one batch in memory.
    /// </summary>
    public static async IAsyncEnumerable<UsageRequestDto> StreamAsync(IDbContextFactory<PortalDbContext> dbFactory, Actor actor, UsageRequestQuery query,
        StatusFilter? status, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var branches = await BranchesAsync(db, actor, query, status, ct);
        if (branches.Count == 0) yield break;
        RequestCursor? after = null;
        while (true)
        {
            var rows = new List<UsageEvent>();
            foreach (var branch in branches)
                rows.AddRange(await After(branch, after).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(ExportBatch).ToListAsync(ct));
            var batch = rows.DistinctBy(e => e.Id).OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(ExportBatch).ToList();
            if (batch.Count == 0) yield break;
            var names = await UsageService.NamesAsync(db, batch, ct);
            foreach (var e in batch) yield return names.ToDto(e);
            // Fewer than a batch: every branch has given all it had past the cursor.
            if (batch.Count < ExportBatch) yield break;
            after = new RequestCursor(batch[^1].At.UtcTicks, batch[^1].Id, 2);
        }
    }

    /// <summary>
    /// The filters every branch shares: equality and time ranges, each the lead or the tail of an index. A new filter
    /// (a source, say) goes here, with an index led by its column and ending in (At, Id).
    /// </summary>
    private static IQueryable<UsageEvent> Filtered(IQueryable<UsageEvent> events, UsageRequestQuery query)
    {
        if (query.KeyId is { } keyId) events = events.Where(e => e.KeyId == keyId);
        if (query.ApplicationId is { } applicationId) events = events.Where(e => e.ApplicationId == applicationId);
        if (query.ProductId is { } productId) events = events.Where(e => e.ProductId == productId);
        if (Enum.TryParse<UsageSource>(query.Source, ignoreCase: true, out var source)) events = events.Where(e => e.Source == source);
        if (query.From is { } from) events = events.Where(e => e.At >= from);
        if (query.To is { } to) events = events.Where(e => e.At < to);
        return events;
    }

    /// <summary>Rows strictly older than the cursor's, in (At, Id) order: the first term bounds the index range.</summary>
    private static IQueryable<UsageEvent> After(IQueryable<UsageEvent> events, RequestCursor? cursor)
    {
        if (cursor is not { } c) return events;
        var at = new DateTimeOffset(c.AtTicks, TimeSpan.Zero);
        var id = c.Id;
        return events.Where(e => e.At <= at && (e.At < at || e.Id < id));
    }

    /// <summary>Counts branch by branch, each stopped one row past what the bound still needs.</summary>
    private static async Task<(int Total, bool LowerBound)> BoundedCountAsync(IReadOnlyList<IQueryable<UsageEvent>> branches, CancellationToken ct)
    {
        var total = 0;
        foreach (var branch in branches)
        {
            total += await branch.Take(UsageService.RequestTotalBound - total + 1).CountAsync(ct);
            if (total > UsageService.RequestTotalBound) return (UsageService.RequestTotalBound, true);
        }
        return (total, false);
    }

    /// <summary>A filter as one predicate per value (each served by an index range) and as one predicate for all.</summary>
    private sealed record Dimension(IReadOnlyList<Expression<Func<UsageEvent, bool>>> Each, Expression<Func<UsageEvent, bool>> All);

    /// <summary>The queries whose merge is the log: no branch when nothing can match.</summary>
    private static async Task<IReadOnlyList<IQueryable<UsageEvent>>> BranchesAsync(PortalDbContext db, Actor actor, UsageRequestQuery query, StatusFilter? status, CancellationToken ct)
    {
        var dimensions = new List<Dimension>();
        if (!actor.Can(Permission.UsageReadAll)) dimensions.Add(await ScopeAsync(db, actor, query, ct));
        if (status is { } s) dimensions.Add(await StatusAsync(db, s, ct));
        if (!string.IsNullOrWhiteSpace(query.Search)) dimensions.Add(await RoutesAsync(db, query.Search.Trim(), ct));
        if (dimensions.Any(d => d.Each.Count == 0)) return [];

        // The widest filters become one predicate each until the branches are few.
        var split = dimensions.OrderBy(d => d.Each.Count).ToList();
        var collapsed = new List<Dimension>();
        while (split.Count > 0 && split.Aggregate(1L, (n, d) => n * d.Each.Count) > MaxBranches)
        {
            collapsed.Add(split[^1]);
            split.RemoveAt(split.Count - 1);
        }

        var common = Filtered(db.UsageEvents.AsNoTracking(), query);
        foreach (var d in collapsed) common = common.Where(d.All);
        IReadOnlyList<IQueryable<UsageEvent>> branches = [common];
        foreach (var d in split)
            branches = [.. branches.SelectMany(b => d.Each.Select(b.Where))];
        return branches;
    }

    /// <summary>
    /// A developer's events: those of their personal keys (by the owner kept on them) and of their accounts'
    /// applications; the two never overlap (an application key's events carry no owner).
    /// </summary>
    private static async Task<Dimension> ScopeAsync(PortalDbContext db, Actor actor, UsageRequestQuery query, CancellationToken ct)
    {
        var apps = await db.Applications.Where(a => Membership.AccountIdsOf(db, actor).Contains(a.AccountId))
            .Select(a => a.Id).ToListAsync(ct);
        // Filtered by an application: only that one, if it is theirs; a personal key's events have no application.
        var owner = query.ApplicationId is null;
        if (query.ApplicationId is { } only) apps = apps.Contains(only) ? [only] : [];
        var userId = actor.UserId;
        var each = new List<Expression<Func<UsageEvent, bool>>>();
        if (owner) each.Add(e => e.OwnerUserId == userId);
        foreach (var app in apps) each.Add(e => e.ApplicationId == app);
        Expression<Func<UsageEvent, bool>> all = owner
            ? e => e.OwnerUserId == userId || (e.ApplicationId != null && apps.Contains(e.ApplicationId.Value))
            : e => e.ApplicationId != null && apps.Contains(e.ApplicationId.Value);
        return new Dimension(each, all);
    }

    /// <summary>An exact code, or each code of the range that occurs (<see cref="DistinctStatusesAsync"/>).</summary>
    private static async Task<Dimension> StatusAsync(PortalDbContext db, StatusFilter status, CancellationToken ct)
    {
        var (min, max) = (status.Min, status.Max);
        Expression<Func<UsageEvent, bool>> all = e => e.Status >= min && e.Status <= max;
        var codes = min == max ? [min] : await DistinctStatusesAsync(db, min, max, ct);
        return new Dimension([.. codes.Select(code => (Expression<Func<UsageEvent, bool>>)(e => e.Status == code))], all);
    }

    /// <summary>
    /// The routes containing the term, ignoring case, as the search always matched: found among the distinct routes
    /// (a skip scan of the route index), then each read by its index.
    /// </summary>
    private static async Task<Dimension> RoutesAsync(PortalDbContext db, string search, CancellationToken ct)
    {
        var routes = await DistinctRoutesAsync(db, ct);
        if (routes.Count > MaxDistinctRoutes)
        {
            var term = search.ToLowerInvariant();
            Expression<Func<UsageEvent, bool>> scan = e => e.Route.ToLower().Contains(term);
            return new Dimension([scan], scan);
        }
        var matching = routes.Where(r => r.Contains(search, StringComparison.OrdinalIgnoreCase)).ToList();
        return new Dimension([.. matching.Select(route => (Expression<Func<UsageEvent, bool>>)(e => e.Route == route))], e => matching.Contains(e.Route));
    }

    /// <summary>
    /// The status codes between min and max that occur, ascending: one seek of the status index per code (a recursive
    /// query that asks each time for the smallest code above the last), however many rows carry them.
    /// </summary>
    internal static Task<List<int>> DistinctStatusesAsync(PortalDbContext db, int min, int max, CancellationToken ct) =>
        db.Database.SqlQuery<int>($"""
            WITH RECURSIVE v(x) AS (
                SELECT (SELECT MIN("Status") FROM "UsageEvents" WHERE "Status" >= {min} AND "Status" <= {max})
                UNION ALL
                SELECT (SELECT MIN("Status") FROM "UsageEvents" WHERE "Status" > v.x AND "Status" <= {max}) FROM v WHERE v.x IS NOT NULL)
            SELECT x AS "Value" FROM v WHERE x IS NOT NULL
            """).ToListAsync(ct);

    /// <summary>The distinct routes, up to one more than <see cref="MaxDistinctRoutes"/>, by a skip scan of the route index.</summary>
    internal static Task<List<string>> DistinctRoutesAsync(PortalDbContext db, CancellationToken ct) =>
        db.Database.SqlQuery<string>($"""
            WITH RECURSIVE v(x, n) AS (
                SELECT (SELECT MIN("Route") FROM "UsageEvents"), 1
                UNION ALL
                SELECT (SELECT MIN("Route") FROM "UsageEvents" WHERE "Route" > v.x), v.n + 1 FROM v WHERE v.x IS NOT NULL AND v.n <= {MaxDistinctRoutes})
            SELECT x AS "Value" FROM v WHERE x IS NOT NULL
            """).ToListAsync(ct);
}

/// <summary>Where a page of the request log starts: after the row (At, Id); it is page <see cref="Page"/>.</summary>
internal readonly record struct RequestCursor(long AtTicks, long Id, int Page)
{
    private const string Version = "r1";

    public string Encode() => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(
        string.Create(CultureInfo.InvariantCulture, $"{Version}.{AtTicks}.{Id}.{Page}")));

    public static bool TryDecode(string text, out RequestCursor cursor)
    {
        cursor = default;
        string plain;
        try
        {
            plain = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(text));
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = plain.Split('.');
        if (parts.Length != 4 || parts[0] != Version) return false;
        const NumberStyles digits = NumberStyles.None;
        if (!long.TryParse(parts[1], digits, CultureInfo.InvariantCulture, out var ticks) || ticks > DateTimeOffset.MaxValue.UtcTicks) return false;
        if (!long.TryParse(parts[2], digits, CultureInfo.InvariantCulture, out var id)) return false;
        if (!int.TryParse(parts[3], digits, CultureInfo.InvariantCulture, out var page) || page is < 2 or > PageQuery.MaxPage) return false;
        cursor = new RequestCursor(ticks, id, page);
        return true;
    }
}
