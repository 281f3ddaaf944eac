using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Tests.Core.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Data;

/// <summary>
/// A slice of every kind of query the services run (writes with audit, lookups by hash, grouped counts, sums over
/// rollups, paging, bulk updates), through the same services, on PostgreSQL: one database for the class.
/// </summary>
public sealed class PostgresServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(provider: DatabaseProvider.PostgreSql);
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Users_AreCreatedListedAndSearched()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer, email: $"Mixed.Case-{Guid.NewGuid():N}@Portal.Test");

        var found = (await _db.Get<UserService>().ListAsync(_root, new UserQuery { Search = user.Email.ToUpperInvariant() })).Value;

        Assert.Equal(user.Id, Assert.Single(found.Items).Id);
        Assert.Equal([Roles.Developer], found.Items[0].Roles);
    }

    [Fact]
    public async Task ApiKey_CreatedWithAnExpiryInAnotherOffset_AuthenticatesByHash_AndKeepsTheInstant()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        // Npgsql writes only UTC DateTimeOffsets: a request's +02:00 must be turned to UTC, not refused.
        var expires = new DateTimeOffset(2027, 1, 2, 12, 0, 0, TimeSpan.FromHours(2));
        var created = await _db.Get<ApiKeyService>().CreateAsync(developer,
            new CreateApiKey { Name = "ci", Scopes = [Scopes.Read], ExpiresAt = expires });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        _db.Get<ApiKeyCache>().Clear();

        var check = await _db.Get<ApiKeyService>().AuthenticateAsync(created.Value.Key);

        Assert.Equal(KeyCheckCode.Valid, check.Code);
        Assert.Equal((created.Value.Id, developer.UserId), (check.Identity!.KeyId, check.Identity.UserId));
        var stored = (await _db.Get<ApiKeyService>().GetAsync(developer, created.Value.Id)).Value;
        Assert.Equal(expires, stored.ExpiresAt);
        Assert.Equal(TimeSpan.Zero, stored.ExpiresAt!.Value.Offset);
        _db.Clock.SetUtcNow(expires.AddSeconds(1));
        Assert.Equal(KeyCheckCode.Expired, (await _db.Get<ApiKeyService>().AuthenticateAsync(created.Value.Key)).Code);
    }

    [Fact]
    public async Task Application_Subscription_Approval_AndVerificationCountingAgainstTheQuota()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var app = (await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = "Checkout" })).Value;
        var plan = ProductServiceTests.Plan("Gold", PlanType.Subscription);
        plan.Quota = 2;
        plan.QuotaPeriod = QuotaPeriod.Day;
        var product = await _db.Get<ProductService>().CreateAsync(_root, new CreateProduct
        {
            Name = $"Payments {Guid.NewGuid():N}"[..20], Published = true, RequiresApproval = true, Plans = [plan],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);
        var subscriptions = _db.Get<SubscriptionService>();
        var waiting = (await subscriptions.CreateAsync(developer, new CreateSubscription
        {
            ApplicationId = app.Application.Id, ProductId = product.Value.Id, PlanId = product.Value.Plans[0].Id,
        })).Value;
        Assert.Equal(SubscriptionStatus.Waiting, waiting.Status);
        var counts = (await subscriptions.CountByStatusAsync(_root, new SubscriptionQuery())).Value;
        Assert.Equal(1, counts[SubscriptionStatus.Waiting]);

        var approved = await subscriptions.ApproveAsync(_root, waiting.Id, new DecideSubscription());
        Assert.Equal(SubscriptionStatus.Approved, approved.Value.Status);

        var gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;
        var codes = new List<VerifyCode>();
        for (var i = 0; i < 3; i++)
            codes.Add((await _db.Get<VerificationService>().VerifyAsync(gateway,
                new VerifyKey { Key = app.Key.Key, Product = product.Value.Slug })).Value.Code);
        Assert.Equal([VerifyCode.Valid, VerifyCode.Valid, VerifyCode.QuotaExceeded], codes);

        await _db.Get<QuotaCounterStore>().FlushAsync();
        await using var db = await _db.OpenAsync();
        var counter = await db.QuotaCounters.SingleAsync(c => c.SubscriptionId == waiting.Id);
        Assert.Equal((2L, new DateTimeOffset(_db.Clock.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero)), (counter.Used, counter.PeriodStart));
    }

    [Fact]
    public async Task UsageWriterBatch_WritesEventsRollupsAndLastUse_ThatMetricsAndChartsRead()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var key = (await _db.Get<ApiKeyService>().CreateAsync(developer, new CreateApiKey { Name = "usage", Scopes = [Scopes.Read] })).Value;
        var now = _db.Clock.GetUtcNow();
        var recorder = _db.Get<UsageRecorder>();
        for (var i = 0; i < 250; i++)
            recorder.Record(new UsageRecord(now.AddMinutes(-i), key.Id, developer.UserId, "GET", "/api/v1/me", i % 10 == 0 ? 500 : 200, 3));
        recorder.Record(new UsageRecord(now.AddDays(-1), key.Id, developer.UserId, "GET", "/api/v1/me", 200, 3));
        // A verification's event has every column set; in another offset, as a caller might pass it.
        var (app, product, plan) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        recorder.Record(new UsageRecord(now.AddSeconds(-1).ToOffset(TimeSpan.FromHours(-5)), key.Id, developer.UserId, "POST", "/api/v1/keys/verify", 200, 4,
            app, product, plan, "QUOTA_EXCEEDED"));

        await _db.Get<UsageWriter>().DrainAsync();

        await using (var db = await _db.OpenAsync())
        {
            Assert.Equal(252, await db.UsageEvents.CountAsync(e => e.KeyId == key.Id));
            Assert.Equal(252, await db.UsageRollups.Where(r => r.KeyId == key.Id).SumAsync(r => r.Count));
            Assert.Equal(now, (await db.ApiKeys.SingleAsync(k => k.Id == key.Id)).LastUsedAt);
            var verification = await db.UsageEvents.SingleAsync(e => e.Outcome != null);
            Assert.Equal((now.AddSeconds(-1), app, product, plan, "QUOTA_EXCEEDED", "POST", 4),
                (verification.At, verification.ApplicationId, verification.ProductId, verification.PlanId, verification.Outcome, verification.Method, verification.LatencyMs));
        }
        var metrics = (await _db.Get<ApiKeyService>().MetricsAsync(developer)).Value;
        // The clock stands at 09:00: the 251 calls of the last 250 minutes are today's, yesterday's one is not.
        Assert.Equal(251, metrics.CallsToday);
        Assert.Equal((1, 1), (metrics.Total, metrics.Active));
        var hourly = (await _db.Get<ApiKeyService>().UsageAsync(developer, key.Id, new UsageQuery { Interval = "hour" })).Value;
        // The last 24 whole hours, 09:00 yesterday to 09:00 today: without the call at 09:00 (an error), with yesterday's.
        Assert.Equal((251, 24), (hourly.Total, hourly.Errors));
        Assert.Equal(61, hourly.Buckets.Single(b => b.Start == now.AddHours(-1)).Count);

        // The usage overview and request log (grouped sums over rollups and events, filters, paging) on the same rows.
        var usage = _db.Get<UsageService>();
        var summary = (await usage.SummaryAsync(_root, new UsageSummaryQuery { From = now.AddHours(-2), To = now })).Value;
        Assert.Equal(summary.Calls, summary.Series.Sum(p => p.Calls));
        Assert.Equal(121, summary.TopKeys.Single(k => k.Id == key.Id).Calls); // 07:00-09:00: two hours of one a minute, and the verification
        var errors = (await usage.ListRequestsAsync(_root, new UsageRequestQuery { KeyId = key.Id, Status = "5xx", PageSize = 10 })).Value;
        Assert.Equal((25, 10), (errors.Total, errors.Items.Count));
        Assert.Equal(errors.Items[0].Id, (await usage.GetRequestAsync(_root, errors.Items[0].Id)).Value.Id);
        // The route search ignores case here too (lower() on both sides), and the dashboard's series-only read agrees.
        Assert.Equal(1, (await usage.ListRequestsAsync(_root, new UsageRequestQuery { KeyId = key.Id, Search = "/API/V1/KEYS" })).Value.Total);
        Assert.Equal(summary.Series, (await usage.CallsAsync(_root, new UsageSummaryQuery { From = now.AddHours(-2), To = now })).Value.Series);

        _db.Clock.Advance(TimeSpan.FromDays(40));
        Assert.Equal(252, await _db.Get<UsageWriter>().PurgeAsync());
    }

    [Fact]
    public async Task AuditLog_PagesNewestFirst_AndFilters()
    {
        var marker = $"audit-{Guid.NewGuid():N}";
        for (var i = 0; i < 7; i++)
        {
            _db.Clock.Advance(TimeSpan.FromSeconds(1));
            await _db.CreateUserAsync(Roles.Developer, email: $"{marker}-{i}@portal.test");
        }
        var audit = _db.Get<AuditService>();

        var page1 = (await audit.ListAsync(_root, new AuditQuery { Search = marker.ToUpperInvariant(), PageSize = 3 })).Value;
        var page3 = (await audit.ListAsync(_root, new AuditQuery { Search = marker, PageSize = 3, Page = 3 })).Value;

        Assert.Equal(7, page1.Total);
        Assert.Equal([$"{marker}-6@portal.test", $"{marker}-5@portal.test", $"{marker}-4@portal.test"], page1.Items.Select(e => e.Target));
        Assert.Equal($"{marker}-0@portal.test", Assert.Single(page3.Items).Target);
    }
}
