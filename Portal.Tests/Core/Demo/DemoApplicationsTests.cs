using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Features.Demo;
using Portal.Core.Features.Accounts;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Demo;

public sealed class DemoApplicationsTests
{
    [Fact]
    public async Task SeedDemo_GivesEveryDeveloperAnAccount_TeamsWithMembers_AndApplicationsWithKeys()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);

        await using var db = await database.OpenAsync();
        var developerIds = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where r.Name == "developer" select ur.UserId).ToListAsync();
        Assert.NotEmpty(developerIds);
        Assert.All(developerIds, id => Assert.Contains(id, db.AccountMembers.Select(m => m.UserId).ToList()));
        Assert.True(await db.Accounts.CountAsync(a => a.Kind == AccountKind.Team) >= 3);
        Assert.True(await db.Applications.CountAsync() >= 20);
        Assert.True(await db.ApiKeys.CountAsync(k => k.ApplicationId != null && k.RevokedAt != null) > 0);
        Assert.True(await db.Applications.AllAsync(a => db.ApiKeys.Any(k => k.ApplicationId == a.Id)));
    }
}
