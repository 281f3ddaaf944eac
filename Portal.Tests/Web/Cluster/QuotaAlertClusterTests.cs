using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Quotas;
using Portal.Core.Features.Verification;

namespace Portal.Tests.Web.Cluster;

/// <summary>Two instances counting in one Redis: each quota alert once across both, and usage read live from Redis.</summary>
public sealed class QuotaAlertClusterTests(TwoInstancesWithRedis cluster) : IClassFixture<TwoInstancesWithRedis>
{
    [Fact]
    public async Task ParallelCallsOnTwoInstances_CrossingBothThresholds_RaiseEachAlertOnce_AndUsageIsRedissTotal()
    {
        var subscribed = await cluster.SubscribedAsync(quota: 200);
        // One call on each first, so the burst finds the key cached instead of opening a connection per call.
        Assert.True((await cluster.VerifyAsync(cluster.A, subscribed)).Valid);
        Assert.True((await cluster.VerifyAsync(cluster.B, subscribed)).Valid);

        var answers = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed))));
        await cluster.A.Get<QuotaAlerts>().IdleAsync();
        await cluster.B.Get<QuotaAlerts>().IdleAsync();

        Assert.Equal(198, answers.Count(a => a.Valid));
        // Before any flush, either instance reads the shared total.
        var usage = await cluster.B.Get<SubscriptionUsageService>().GetAsync(cluster.Root, subscribed.SubscriptionId);
        Assert.Equal(200, usage.Value.Quota.Used);
        Assert.Equal(0, usage.Value.Quota.Remaining);

        await using var db = await cluster.A.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var kinds = (await db.BillingAlerts.AsNoTracking().Where(a => a.SubscriptionId == subscribed.SubscriptionId).Select(a => a.Kind).ToListAsync()).Order();
        Assert.Equal([BillingAlertKind.Quota80, BillingAlertKind.Quota100], kinds);
        var id = subscribed.SubscriptionId.ToString();
        Assert.Equal(2, await db.Audit.CountAsync(a => a.Action == AuditActions.QuotaThresholdReached && a.TargetId == id));
        Assert.Equal(2, cluster.A.Get<QuotaAlerts>().Raised + cluster.B.Get<QuotaAlerts>().Raised);
    }
}
