using System.Text.RegularExpressions;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Data;

/// <summary>
/// The big lists (a million keys, 200,000 applications and registrations) read page 1 of each offered sort in index
/// order and count from one table: SQLite's plan for each query of the table has no scan of the table itself and no
/// sort. Portal never runs ANALYZE, so these plans are the plans at any size.
/// </summary>
public sealed partial class ListPlanTests : IAsyncLifetime
{
    private readonly QueryPlans _plans = new();
    private TestDatabase _db = null!;
    private UsageSeed _seed = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(_plans.Register, DatabaseProvider.Sqlite);
        _seed = await UsageSeed.CreateAsync(_db.Services, await _db.RootAsync(), async _ => (await _db.CreateUserAsync(Roles.Developer)).Actor);
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [GeneratedRegex(@"^SCAN (\w+)$")]
    private static partial Regex BareScan();

    /// <summary>Every query of <paramref name="table"/> since the last clear: no bare scan of it, no temporary sort.</summary>
    private async Task AssertIndexedAsync(string table, string alias)
    {
        var plans = await _plans.PlansAsync(_db.ConnectionString, table);
        _plans.Clear();
        Assert.NotEmpty(plans);
        Assert.All(plans, p =>
        {
            Assert.DoesNotContain(p.Plan, line => line.Contains("TEMP B-TREE", StringComparison.Ordinal));
            Assert.DoesNotContain(p.Plan, line => BareScan().Match(line) is { Success: true } m && m.Groups[1].Value == alias);
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("createdAt")]
    [InlineData("name")]
    [InlineData("-name")]
    [InlineData("lastUsed")]
    [InlineData("-lastUsed")]
    public async Task ApiKeys_Page1_OfEverySort_IsReadInIndexOrder(string? sort)
    {
        _plans.Clear();
        Assert.True((await _db.Get<ApiKeyService>().ListAsync(_seed.Admin, new ApiKeyQuery { Sort = sort })).IsSuccess);
        await AssertIndexedAsync("ApiKeys", "a");
    }

    [Fact]
    public async Task ApiKeys_MetricCards_CountFromAnIndex()
    {
        _plans.Clear();
        Assert.True((await _db.Get<ApiKeyService>().MetricsAsync(_seed.Admin)).IsSuccess);
        var plans = (await _plans.PlansAsync(_db.ConnectionString, "ApiKeys")).Where(p => p.Sql.Contains("COUNT(*)", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, plans.Count);
        Assert.All(plans, p => Assert.Contains(p.Plan, line => line.Contains("USING COVERING INDEX IX_ApiKeys_Personal_", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A rare role (fewer members than <see cref="UserService.RareRoleMembers"/>) is read from the role index and its users
    /// by primary key, then sorted (few rows); the users are never walked one by one. At 100,000 users the plan reads
    /// (scale smoke database, sqlite3):
    /// <code>
    /// SEARCH a USING INDEX sqlite_autoindex_AspNetUsers_1 (Id=?)
    /// LIST SUBQUERY 1
    ///   SEARCH i USING INDEX IX_AspNetUserRoles_RoleId (RoleId=?)
    /// USE TEMP B-TREE FOR ORDER BY
    /// </code>
    /// </summary>
    [Theory]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.SuperAdmin)]
    public async Task Users_ByARareRole_AreReadFromTheRoleIndex_NotFromEveryUser(string role)
    {
        _plans.Clear();
        var listed = await _db.Get<UserService>().ListAsync(_seed.Admin, new UserQuery { Role = role });
        Assert.True(listed.IsSuccess);
        Assert.All(listed.Value.Items, u => Assert.Contains(role, u.Roles));
        var plans = await _plans.PlansAsync(_db.ConnectionString, "AspNetUsers");
        Assert.Equal(2, plans.Count); // the count and the page
        Assert.All(plans, p =>
        {
            Assert.DoesNotContain(p.Plan, line => BareScan().IsMatch(line) || line.StartsWith("SCAN ", StringComparison.Ordinal));
            Assert.Contains(p.Plan, line => line.Contains("IX_AspNetUserRoles_RoleId (RoleId=?)", StringComparison.Ordinal));
            Assert.Contains(p.Plan, line => line.Contains("sqlite_autoindex_AspNetUsers_1 (Id=?)", StringComparison.Ordinal));
        });
    }

    [Theory]
    [InlineData(null)]
    [InlineData("-name")]
    [InlineData("createdAt")]
    [InlineData("-createdAt")]
    public async Task Applications_Page1_OfEachSortByItsOwnColumn_IsReadInIndexOrder(string? sort)
    {
        _plans.Clear();
        Assert.True((await _db.Get<ApplicationService>().ListAsync(_seed.Admin, new ApplicationQuery { Sort = sort })).IsSuccess);
        await AssertIndexedAsync("Applications", "a");
    }

    [Fact]
    public async Task Applications_APagesActiveKeys_AreCountedFromTheApplicationKeyIndexAlone()
    {
        // A full page: with many ids in the IN list SQLite weighs the state index (every active key) against this one.
        // Ten applications per account at most: three developers' accounts.
        for (var d = 0; d < 3; d++)
        {
            var developer = (await _db.CreateUserAsync(Roles.Developer)).Actor;
            for (var i = 0; i < 10; i++)
            {
                var created = await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = $"Plan app {d}.{i}" });
                Assert.True(created.IsSuccess, created.Error?.Detail);
            }
        }
        _plans.Clear();

        Assert.True((await _db.Get<ApplicationService>().ListAsync(_seed.Admin, new ApplicationQuery { PageSize = 50 })).IsSuccess);

        var counts = Assert.Single(await _plans.PlansAsync(_db.ConnectionString, "ApiKeys"));
        Assert.Contains(counts.Plan, line => line.Contains("USING COVERING INDEX IX_ApiKeys_ApplicationId (ApplicationId=?", StringComparison.Ordinal));
        Assert.DoesNotContain(counts.Plan, line => line.Contains("IX_ApiKeys_State", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Subscriptions_All_Page1AndItsCounts_AreReadInIndexOrder_CountedWithoutJoins()
    {
        _plans.Clear();
        Assert.True((await _db.Get<SubscriptionService>().ListAsync(_seed.Admin, new SubscriptionQuery())).IsSuccess);
        Assert.True((await _db.Get<SubscriptionService>().CountByStatusAsync(_seed.Admin, new SubscriptionQuery())).IsSuccess);
        var plans = await _plans.PlansAsync(_db.ConnectionString, "Subscriptions");
        Assert.Contains(plans, p => p.Sql.Contains("COUNT(*)", StringComparison.Ordinal) && !p.Sql.Contains("JOIN", StringComparison.Ordinal));
        Assert.DoesNotContain(plans, p => p.Sql.Contains("COUNT(*)", StringComparison.Ordinal) && p.Sql.Contains("JOIN", StringComparison.Ordinal));
        await AssertIndexedAsync("Subscriptions", "s");
    }
}
