using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

/// <summary>
/// The request log reads each filter through an index led by it and in (At, Id) order: SQLite's plan for every query
/// of the usage events is an index search (or a scan of the (At, Id) index that stops at the page), never a scan of
/// the table, never a sort. Plans do not depend on the rows here: Portal never runs ANALYZE, so SQLite plans the same
/// way at 100 million rows as at twenty.
/// </summary>
public sealed class RequestLogPlanTests : IAsyncLifetime
{
    private readonly QueryPlans _plans = new();
    private TestDatabase _db = null!;
    private UsageSeed _seed = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(_plans.Register, DatabaseProvider.Sqlite);
        _seed = await UsageSeed.CreateAsync(_db.Services, await _db.RootAsync(), async _ => (await _db.CreateUserAsync(Roles.Developer)).Actor);
        await _seed.WriteStandardUsageAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    public static TheoryData<string, string> Filters => new()
    {
        { "", "IX_UsageEvents_At_Id" },
        { "status=404", "IX_UsageEvents_Status_At_Id" },
        { "status=4xx", "IX_UsageEvents_Status_At_Id" },
        { "status=error", "IX_UsageEvents_Status_At_Id" },
        { "key", "IX_UsageEvents_KeyId_At_Id" },
        { "application", "IX_UsageEvents_ApplicationId_At_Id" },
        { "product", "IX_UsageEvents_ProductId_At_Id" },
        { "from", "IX_UsageEvents_At_Id" },
        { "to", "IX_UsageEvents_At_Id" },
        { "search", "IX_UsageEvents_Route_At_Id" },
        // Their personal keys' calls and their applications' calls: two branches, each by its index.
        { "developer", "IX_UsageEvents_OwnerUserId_At_Id|IX_UsageEvents_ApplicationId_At_Id" },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task FirstAndNextPage_OfEachFilter_AreIndexSearchesInOrder_NoTableScanNoSort(string filter, string index)
    {
        var actor = filter == "developer" ? _seed.DeveloperD : _seed.Admin;
        var query = filter switch
        {
            "" or "developer" => new UsageRequestQuery(),
            "key" => new UsageRequestQuery { KeyId = _seed.AdminKey },
            "application" => new UsageRequestQuery { ApplicationId = _seed.AppA.Id },
            "product" => new UsageRequestQuery { ProductId = _seed.Product.Id },
            "from" => new UsageRequestQuery { From = _seed.Now.AddHours(-1) },
            "to" => new UsageRequestQuery { To = _seed.Now.AddHours(-1) },
            "search" => new UsageRequestQuery { Search = "me" },
            _ => new UsageRequestQuery { Status = filter["status=".Length..] },
        };
        var usage = _db.Get<UsageService>();
        var first = (await usage.ListRequestsAsync(actor, query with { PageSize = 1 })).Value;
        var after = new RequestCursor(first.Items[0].At.UtcTicks, first.Items[0].Id, 2).Encode();
        Assert.True((await usage.ListRequestsAsync(actor, query with { PageSize = 1, Cursor = after })).IsSuccess);

        var plans = await _plans.PlansAsync(_db.ConnectionString, "UsageEvents");
        var rows = plans.Where(p => !p.Sql.Contains("RECURSIVE", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rows);
        Assert.All(plans, p =>
        {
            var plan = string.Join("\n", p.Plan);
            Assert.DoesNotContain("TEMP B-TREE", plan);
            Assert.DoesNotMatch(@"(?m)^SCAN u$", plan);
        });
        // Each page and each count of a branch reads the filter's own index.
        var indexes = index.Split('|');
        Assert.All(rows, p => Assert.Contains(p.Plan, line => indexes.Any(i => line.Contains($"INDEX {i} ", StringComparison.Ordinal) || line.EndsWith($"INDEX {i}", StringComparison.Ordinal))));
        if (filter is not ("" or "developer"))
            Assert.All(rows, p => Assert.Contains(p.Plan, line => line.StartsWith("SEARCH u USING", StringComparison.Ordinal)));
    }
}
