using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

public sealed class DemoUsageTests
{
    [Fact]
    public async Task SeedDemo_GivesTheUsagePagesVerificationsProductsApplicationsAndARequestLog()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);
        var root = await database.RootAsync();
        var usage = database.Get<UsageService>();
        var now = database.Clock.GetUtcNow();

        var month = (await usage.SummaryAsync(root, new UsageSummaryQuery { From = now.AddDays(-29), To = now })).Value;

        Assert.True(month.Calls > 1000, $"{month.Calls} calls");
        Assert.True(month.Errors > 0);
        Assert.True(month.Verifications.Valid > 0 && month.Verifications.Invalid > 0);
        Assert.True(month.Verifications.ByCode.Count >= 4, string.Join(", ", month.Verifications.ByCode));
        Assert.Equal(5, month.TopApplications.Count);
        Assert.True(month.TopProducts.Count >= 2);
        Assert.Equal(5, month.TopKeys.Count);
        Assert.True(month.Series.Count(p => p.Calls > 0) >= 25);

        // The last day's personal-key calls are in the log one by one, as many as their rollups count.
        var day = UsageWriter.HourOf(now).AddHours(-23);
        await using var db = await database.OpenAsync();
        var personal = db.ApiKeys.Where(k => k.OwnerUserId != null).Select(k => k.Id);
        Assert.Equal(
            await db.UsageRollups.Where(r => r.HourStart >= day && personal.Contains(r.KeyId)).SumAsync(r => r.Count),
            await db.UsageEvents.CountAsync(e => e.At >= day && e.KeyId != null && personal.Contains(e.KeyId.Value)));
        Assert.True((await usage.ListRequestsAsync(root, new UsageRequestQuery { Status = "error", From = day })).Value.Total > 0);
    }
}
