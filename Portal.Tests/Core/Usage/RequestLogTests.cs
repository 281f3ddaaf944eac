using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

/// <summary>
/// The request log's keyset paging, bounded total and filters, against a straightforward LINQ reading of the same rows
/// (what the log answered before it was paged by cursor).
/// </summary>
public sealed class RequestLogTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private UsageSeed _seed = null!;

    private UsageService Usage => _db.Get<UsageService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _seed = await UsageSeed.CreateAsync(_db.Services, await _db.RootAsync(), async _ => (await _db.CreateUserAsync(Roles.Developer)).Actor);
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task InsertAsync(IEnumerable<UsageEvent> events)
    {
        await using var db = await _db.OpenAsync();
        db.UsageEvents.AddRange(events);
        await db.SaveChangesAsync();
    }

    private UsageEvent Event(DateTimeOffset at, int status = 200, string route = "/api/v1/me", bool app = false) => app
        ? new UsageEvent { At = at, KeyId = _seed.AppAKey, ApplicationId = _seed.AppA.Id, Method = "GET", Route = route, Status = status, LatencyMs = 3 }
        : new UsageEvent { At = at, KeyId = _seed.DeveloperDKey, OwnerUserId = _seed.DeveloperD.UserId, Method = "GET", Route = route, Status = status, LatencyMs = 3 };

    /// <summary>Follows nextCursor to the end; the pages' rows in order.</summary>
    private async Task<List<UsageRequestDto>> AllPagesAsync(Actor actor, UsageRequestQuery query, Func<int, Task>? betweenPages = null)
    {
        var rows = new List<UsageRequestDto>();
        var page = (await Usage.ListRequestsAsync(actor, query)).Value;
        rows.AddRange(page.Items);
        for (var n = 1; page.NextCursor is { } next; n++)
        {
            if (betweenPages is not null) await betweenPages(n);
            page = (await Usage.ListRequestsAsync(actor, query with { Cursor = next })).Value;
            Assert.Equal(n + 1, page.Page);
            rows.AddRange(page.Items);
        }
        return rows;
    }

    [Fact]
    public async Task Cursor_WhileNewerEventsArrive_NoRowIsSkippedOrRepeated_AndTiesOnAtAreOrderedById()
    {
        var at = _seed.Now.AddMinutes(-30);
        // Three rows on the same instant, then ten a second apart: ties must come out by descending Id.
        await InsertAsync(Enumerable.Range(0, 3).Select(_ => Event(at)).Concat(Enumerable.Range(1, 10).Select(i => Event(at.AddSeconds(i)))));
        await using (var db = await _db.OpenAsync())
        {
            var before = await db.UsageEvents.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Select(e => e.Id).ToListAsync();

            var seen = await AllPagesAsync(_seed.Admin, new UsageRequestQuery { PageSize = 4 },
                async _ => await InsertAsync([Event(_seed.Now), Event(_seed.Now)]));

            Assert.Equal(before, seen.Select(r => r.Id));
            Assert.Equal(before.Count, seen.Select(r => r.Id).Distinct().Count());
            var tied = seen.Where(r => r.At == at).Select(r => r.Id).ToList();
            Assert.Equal(3, tied.Count);
            Assert.Equal(tied.OrderDescending(), tied);
        }
    }

    [Fact]
    public async Task Cursor_ThroughEveryBranchOfASplitFilter_MergesInOrder_WithoutGapsOrRepeats()
    {
        var at = _seed.Now.AddHours(-2);
        await InsertAsync(Enumerable.Range(0, 40).Select(i => Event(at.AddSeconds(i / 3), status: (i % 4) switch { 0 => 404, 1 => 401, 2 => 200, _ => 500 },
            route: i % 2 == 0 ? "/api/v1/me" : "/api/v1/applications", app: i % 5 == 0)));
        foreach (var query in new UsageRequestQuery[] { new() { Status = "error" }, new() { Status = "4xx", Search = "API" }, new() { Search = "/" } })
        {
            var expected = await OldQueryAsync(_seed.DeveloperD, query);
            var pages = await AllPagesAsync(_seed.DeveloperD, query with { PageSize = 3 });
            Assert.Equal(expected, pages.Select(r => r.Id));
        }
    }

    [Fact]
    public async Task Total_BelowTheBound_IsExact_AndAboveIt_IsTheBoundFlaggedAsALowerBound()
    {
        var at = _seed.Now.AddDays(-1);
        await InsertAsync(Enumerable.Range(0, UsageService.RequestTotalBound).Select(i => Event(at.AddSeconds(i), status: i == 0 ? 503 : 200)));

        var exact = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery())).Value;
        Assert.Equal((UsageService.RequestTotalBound, false), (exact.Total, exact.TotalIsLowerBound));

        await InsertAsync([Event(_seed.Now.AddMinutes(-1))]);
        var bounded = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery())).Value;
        Assert.Equal((UsageService.RequestTotalBound, true), (bounded.Total, bounded.TotalIsLowerBound));
        Assert.NotNull(bounded.NextCursor);

        var filtered = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Status = "5xx" })).Value;
        Assert.Equal((1, false), (filtered.Total, filtered.TotalIsLowerBound));
        Assert.Null(filtered.NextCursor);
    }

    public static TheoryData<string> Filters => ["", "status=404", "status=4xx", "status=error", "status=2xx", "key=admin", "key=appA",
        "application=A", "application=B", "product", "from", "to", "search=ME", "search=applications", "search=/api/v1/usage",
        "search=nothing", "status=error&search=me", "application=A&status=2xx"];

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task EachFilter_ForAnAdminAndForADeveloper_ReturnsWhatTheOldQueryReturned(string filter)
    {
        await _seed.WriteStandardUsageAsync();
        var query = QueryOf(filter);
        foreach (var actor in new[] { _seed.Admin, _seed.DeveloperD, _seed.DeveloperE })
        {
            var expected = await OldQueryAsync(actor, query);
            var page = (await Usage.ListRequestsAsync(actor, query)).Value;
            Assert.Equal(expected, page.Items.Select(r => r.Id));
            Assert.Equal((expected.Count, false), (page.Total, page.TotalIsLowerBound));
            Assert.Equal(expected, await AllPagesAsync(actor, query with { PageSize = 2 }).ContinueWith(t => t.Result.Select(r => r.Id).ToList()));
        }
    }

    private UsageRequestQuery QueryOf(string filter)
    {
        var query = new UsageRequestQuery();
        foreach (var part in filter.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = part.Split('=') is [var n, var v] ? (n, v) : (part, "");
            query = name switch
            {
                "status" => query with { Status = value },
                "search" => query with { Search = value },
                "key" => query with { KeyId = value == "admin" ? _seed.AdminKey : _seed.AppAKey },
                "application" => query with { ApplicationId = value == "A" ? _seed.AppA.Id : _seed.AppB.Id },
                "product" => query with { ProductId = _seed.Product.Id },
                "from" => query with { From = _seed.Now.AddMinutes(-90) },
                "to" => query with { To = _seed.Now.AddMinutes(-90) },
                _ => throw new ArgumentException(filter),
            };
        }
        return query;
    }

    /// <summary>The request log as one filtered, sorted read of the rows: what it answered before keyset paging.</summary>
    private async Task<List<long>> OldQueryAsync(Actor actor, UsageRequestQuery query)
    {
        await using var db = await _db.OpenAsync();
        var apps = await db.Applications.Where(a => db.AccountMembers.Any(m => m.UserId == actor.UserId && m.AccountId == a.AccountId)).Select(a => a.Id).ToListAsync();
        var all = (await db.UsageEvents.AsNoTracking().ToListAsync()).AsEnumerable();
        if (!actor.Can(Permission.UsageReadAll))
            all = all.Where(e => e.OwnerUserId == actor.UserId || (e.ApplicationId is { } a && apps.Contains(a)));
        Assert.True(StatusFilter.TryParse(query.Status, out var status));
        return all.Where(e => query.KeyId is null || e.KeyId == query.KeyId)
            .Where(e => query.ApplicationId is null || e.ApplicationId == query.ApplicationId)
            .Where(e => query.ProductId is null || e.ProductId == query.ProductId)
            .Where(e => query.From is null || e.At >= query.From)
            .Where(e => query.To is null || e.At < query.To)
            .Where(e => status is not { } s || (e.Status >= s.Min && e.Status <= s.Max))
            .Where(e => string.IsNullOrEmpty(query.Search) || e.Route.Contains(query.Search, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Select(e => e.Id).ToList();
    }

    [Theory]
    [InlineData("not a cursor")]
    [InlineData("cjEuMS4y")] // r1.1.2: no page
    [InlineData("cjEuMS4yLjE")] // r1.1.2.1: a cursor never leads to page 1
    [InlineData("eDEuMS4yLjM")] // another version
    [InlineData("cjEuLTEuMi4z")] // a negative time
    public async Task ABadCursor_IsAValidationErrorOnCursor(string cursor)
    {
        var error = Assert.IsType<ValidationError>((await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Cursor = cursor })).Error);
        Assert.Contains("cursor", error.Errors.Keys);
    }

    [Fact]
    public async Task PagesByNumber_ReachTheFirst10000Rows_AndDeeperAskForTheCursor()
    {
        await _seed.WriteStandardUsageAsync();
        Assert.True((await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Page = 50, PageSize = 200 })).IsSuccess);
        var error = Assert.IsType<ValidationError>((await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Page = 51, PageSize = 200 })).Error);
        Assert.Contains("page", error.Errors.Keys);
    }

    [Fact]
    public async Task APageByNumber_AndTheCursorOfThePageBefore_ShowTheSameRows()
    {
        await _seed.WriteStandardUsageAsync();
        var first = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { PageSize = 5 })).Value;
        var second = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { PageSize = 5, Page = 2 })).Value;
        var byCursor = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { PageSize = 5, Cursor = first.NextCursor })).Value;
        Assert.Equal(second.Items.Select(r => r.Id), byCursor.Items.Select(r => r.Id));
        Assert.Equal((2, 2), (second.Page, byCursor.Page));
        Assert.Equal(second.NextCursor, byCursor.NextCursor);
    }
}
