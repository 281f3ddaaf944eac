using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Demo;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Demo;

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

    [Fact]
    public async Task SeedDemo_IssuesKeysOverTime_SoKeysIssuedDiffersBetweenPeriods()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);
        var root = await database.RootAsync();
        var usage = database.Get<UsageService>();
        var now = database.Clock.GetUtcNow();
        await using var db = await database.OpenAsync();

        async Task<long> IssuedAsync(TimeSpan back)
        {
            var summary = (await usage.SummaryAsync(root, new UsageSummaryQuery { From = now - back, To = now })).Value;
            // The card counts the keys created in the window (widened to whole buckets), as the table holds them.
            Assert.Equal(await db.ApiKeys.CountAsync(k => k.CreatedAt >= summary.From && k.CreatedAt < summary.To), summary.Keys.Issued);
            return summary.Keys.Issued;
        }
        var day = await IssuedAsync(TimeSpan.FromDays(1));
        var week = await IssuedAsync(TimeSpan.FromDays(7));
        var month = await IssuedAsync(TimeSpan.FromDays(30));

        Assert.True(day <= week && week < month, $"{day} / {week} / {month}");
        Assert.True(month < await db.ApiKeys.CountAsync(), "some keys are older than 30 days");

        // An application's keys are not older than the application, and none is used before it was issued.
        var keys = await (from k in db.ApiKeys join a in db.Applications on k.ApplicationId equals a.Id
                          select new { k.Id, k.CreatedAt, k.RevokedAt, Application = a.CreatedAt }).ToListAsync();
        Assert.All(keys, k => Assert.True(k.CreatedAt >= k.Application && (k.RevokedAt is null || k.RevokedAt >= k.CreatedAt), k.ToString()));
        var created = keys.ToDictionary(k => k.Id, k => k.CreatedAt);
        var firstUse = await db.UsageEvents.Where(e => e.KeyId != null).GroupBy(e => e.KeyId!.Value)
            .Select(g => new { Key = g.Key, First = g.Min(e => e.At) }).ToListAsync();
        Assert.All(firstUse.Where(u => created.ContainsKey(u.Key)), u => Assert.True(u.First >= created[u.Key], u.ToString()));
    }
}
