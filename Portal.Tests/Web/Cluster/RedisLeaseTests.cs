using Npgsql;
using Portal.Core.Domain;
using Portal.Core.Features.Cluster;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Cluster;

/// <summary>
/// Leases: far from its limits an instance takes several calls from Redis at once and spends them itself. Limits stay
/// exact across instances, and calls taken but not spent go back to Redis.
/// </summary>
public sealed class RedisLeaseTests(TwoInstancesWithRedis cluster) : IClassFixture<TwoInstancesWithRedis>
{
    [Fact]
    public async Task GenerousQuota_3000ConcurrentCallsOnTwoInstances_ExactlyTheQuotaPass()
    {
        // 2,000 is far above a lease's room (32 × 16), so most calls are spent from leases and the last few hundred are
        // decided one by one in Redis.
        var subscribed = await cluster.SubscribedAsync(quota: 2_000);
        using var gate = new SemaphoreSlim(32);

        var answers = await Task.WhenAll(Enumerable.Range(0, 3_000).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed);
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.Equal(2_000, answers.Count(a => a.Valid));
        Assert.True(cluster.A.Get<RedisLimitStore>().SpentFromLeases + cluster.B.Get<RedisLimitStore>().SpentFromLeases > 1_000);
        Assert.All(answers.Where(a => !a.Valid), a => Assert.Equal(VerifyCode.QuotaExceeded, a.Code));
        Assert.All(answers, a => Assert.InRange(a.Quota!.Remaining!.Value, 0, 2_000));
        await cluster.A.Get<ILimitStore>().FlushAsync();
        await cluster.B.Get<ILimitStore>().FlushAsync();
        Assert.Equal(2_000, await UsedAsync(subscribed.SubscriptionId));
    }

    [Fact]
    public async Task Lease_UnspentCalls_AreGivenBackToRedis()
    {
        var subscribed = await cluster.SubscribedAsync(rateLimit: 100_000, quota: 100_000);
        for (var i = 0; i < 5; i++) Assert.True((await cluster.VerifyAsync(cluster.A, subscribed)).Valid);

        // The first call took a lease of 32 from Redis; idle for a moment, its 27 unspent calls go back.
        var quotaKey = $"portal:{{{subscribed.SubscriptionId:N}}}:q:{QuotaCounterStore.PeriodStart(QuotaPeriod.Day, DateTimeOffset.UtcNow).UtcTicks}";
        var redis = cluster.A.Get<PortalRedis>().Database;
        await TwoInstances.WithinAsync(TimeSpan.FromSeconds(5), async () => (long)await redis.StringGetAsync(quotaKey) == 5);

        // And B sees the same numbers: its first call is the sixth of the period.
        var onB = await cluster.VerifyAsync(cluster.B, subscribed);
        Assert.True(onB.Valid);
        Assert.Equal(100_000 - 6, onB.Quota!.Remaining);
    }

    [Fact]
    public async Task SmallLimits_AreNeverLeased()
    {
        // 100 calls a minute is below a lease's room: every call is decided in Redis, so Redis holds exactly the calls made.
        var subscribed = await cluster.SubscribedAsync(rateLimit: 100, window: RateLimitWindow.Minute, quota: 1_000);
        var spentBefore = cluster.A.Get<RedisLimitStore>().SpentFromLeases;
        for (var i = 0; i < 3; i++) Assert.True((await cluster.VerifyAsync(i % 2 == 0 ? cluster.A : cluster.B, subscribed)).Valid);

        var quotaKey = $"portal:{{{subscribed.SubscriptionId:N}}}:q:{QuotaCounterStore.PeriodStart(QuotaPeriod.Day, DateTimeOffset.UtcNow).UtcTicks}";
        Assert.Equal(0, cluster.A.Get<RedisLimitStore>().SpentFromLeases - spentBefore);
        Assert.Equal(3, (long)await cluster.A.Get<PortalRedis>().Database.StringGetAsync(quotaKey));
    }

    private async Task<long> UsedAsync(Guid subscriptionId)
    {
        await using var connection = new NpgsqlConnection(cluster.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT COALESCE(SUM("Used"), 0)::bigint FROM "QuotaCounters" WHERE "SubscriptionId" = @id""", connection);
        command.Parameters.AddWithValue("id", subscriptionId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
