using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Demo;
using Portal.Core.Features.ApiKeys;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Demo;

public sealed class DemoApiKeysTests
{
    [Fact]
    public async Task SeedDemo_GivesKeysInEveryState_AndThirtyDaysOfUsage()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);

        var now = database.Clock.GetUtcNow();
        await using var db = await database.OpenAsync();
        // Personal keys only: application keys are counted by the applications' own pages.
        var keys = await db.ApiKeys.Where(k => k.ApplicationId == null).ToListAsync();
        var states = keys.Select(k => k.StatusAt(now)).ToHashSet();
        Assert.Equal(Enum.GetValues<ApiKeyStatus>().ToHashSet(), states);
        Assert.Contains(keys, k => k.PreviousHashExpiresAt > now);
        Assert.Contains(keys, k => k.ExpiresAt is null);
        var oldest = await db.UsageRollups.MinAsync(r => r.HourStart);
        Assert.True(now - oldest >= TimeSpan.FromDays(29), $"usage starts only at {oldest}");
        var metrics = (await database.Get<ApiKeyService>().MetricsAsync(await database.RootAsync())).Value;
        Assert.Equal(keys.Count, metrics.Total);
    }
}
