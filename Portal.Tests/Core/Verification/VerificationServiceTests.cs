using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Verification;

public sealed class VerificationServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private VerificationService Verification => _db.Get<VerificationService>();
    private Actor _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private sealed record App(Actor Developer, Guid Id, Guid AccountId, Guid KeyId, string Key);

    private async Task<App> AppAsync(Actor? developer = null)
    {
        developer ??= (await _db.CreateUserAsync(Roles.Developer)).Actor;
        var created = await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = $"app-{Guid.NewGuid():N}" });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return new App(developer, created.Value.Application.Id, created.Value.Application.AccountId, created.Value.Key.Id, created.Value.Key.Key);
    }

    private async Task<(ApiProduct Product, Plan Plan)> ProductAsync(
        int? rateLimit = null, RateLimitWindow window = RateLimitWindow.Second, long? quota = null, QuotaPeriod period = QuotaPeriod.Day,
        bool published = true)
    {
        var now = _db.Clock.GetUtcNow();
        var slug = $"payments-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Gold", Type = PlanType.Subscription, RateLimit = rateLimit, RateLimitWindow = window, Quota = quota, QuotaPeriod = period };
        var product = new ApiProduct { Name = slug, Slug = slug, Published = published, CreatedAt = now, UpdatedAt = now, Plans = [plan] };
        await using var db = await _db.OpenAsync();
        db.Products.Add(product);
        await db.SaveChangesAsync();
        return (product, plan);
    }

    private async Task<Guid> SubscribeAsync(App app, ApiProduct product, Plan plan, SubscriptionStatus status = SubscriptionStatus.Approved)
    {
        await using var db = await _db.OpenAsync();
        var subscription = new Subscription
        {
            ApplicationId = app.Id, ApplicationName = "app", AccountId = app.AccountId,
            ProductId = product.Id, PlanId = plan.Id, Status = status, CreatedAt = _db.Clock.GetUtcNow(),
        };
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync();
        _db.Get<VerificationCache>().Invalidate();
        return subscription.Id;
    }

    /// <summary>An application subscribed (APPROVED) to a new product with the given limits.</summary>
    private async Task<(App App, ApiProduct Product, Plan Plan, Guid SubscriptionId)> SubscribedAsync(
        int? rateLimit = null, RateLimitWindow window = RateLimitWindow.Second, long? quota = null, QuotaPeriod period = QuotaPeriod.Day)
    {
        var app = await AppAsync();
        var (product, plan) = await ProductAsync(rateLimit, window, quota, period);
        return (app, product, plan, await SubscribeAsync(app, product, plan));
    }

    private async Task<VerifyResult> VerifyAsync(string key, string product)
    {
        var result = await Verification.VerifyAsync(_gateway, new VerifyKey { Key = key, Product = product });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task SetAccountStatusAsync(Guid accountId, AccountStatus status) =>
        Assert.True((await _db.Get<AccountService>().SetStatusAsync(await _db.RootAsync(), accountId, status)).IsSuccess);

    [Fact]
    public async Task Valid_AnswersWithTheSubscriptionPlanLimitsAndGatewayHeaders()
    {
        var (app, product, plan, subscriptionId) = await SubscribedAsync(rateLimit: 10, quota: 1000);

        var answer = await VerifyAsync(app.Key, product.Slug);

        Assert.True(answer.Valid);
        Assert.Equal(VerifyCode.Valid, answer.Code);
        Assert.Equal(app.KeyId, answer.KeyId);
        Assert.Equal(app.Id, answer.ApplicationId);
        Assert.Equal(subscriptionId, answer.SubscriptionId);
        Assert.Equal(product.Id, answer.ProductId);
        Assert.Equal(new VerifyPlan(plan.Id, "Gold", "Subscription"), answer.Plan);
        // 09:00:00 exactly: the second's window ends in 1 s, the day in 15 h.
        Assert.Equal(new LimitState(10, 9, 1, new DateTimeOffset(2026, 11, 23, 9, 0, 1, TimeSpan.Zero)), answer.Ratelimit);
        Assert.Equal(new LimitState(1000, 999, 15 * 3600, new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)), answer.Quota);
        Assert.Null(answer.RetryAfter);
        Assert.Equal("10", answer.Headers["RateLimit-Limit"]);
        Assert.Equal("9", answer.Headers["RateLimit-Remaining"]);
        Assert.Equal("1", answer.Headers["RateLimit-Reset"]);
        Assert.False(answer.Headers.ContainsKey("Retry-After"));
    }

    [Fact]
    public async Task Product_IsFoundByIdOrSlug_AndAnUnknownOneIsNotFound()
    {
        var (app, product, _, _) = await SubscribedAsync();

        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Id.ToString())).Code);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug.ToUpperInvariant())).Code);
        var unknown = await VerifyAsync(app.Key, "no-such-product");
        Assert.Equal(VerifyCode.NotFound, unknown.Code);
        Assert.False(unknown.Valid);
        Assert.Equal(app.KeyId, unknown.KeyId);
        Assert.Null(unknown.ProductId);
        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(app.Key, Guid.NewGuid().ToString())).Code);
    }

    [Fact]
    public async Task UnknownOrMalformedKey_IsNotFound()
    {
        var (app, product, _, _) = await SubscribedAsync();
        var other = await AppAsync();
        await _db.Get<ApplicationService>().DeleteAsync(other.Developer, other.Id);

        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync("not-a-key", product.Slug)).Code);
        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(app.Key[..^1] + (app.Key[^1] == 'a' ? 'b' : 'a'), product.Slug)).Code);
        var wellFormedButUnknown = ApiKeyFormat.Generate("ptl_").Key;
        var answer = await VerifyAsync(wellFormedButUnknown, product.Slug);
        Assert.Equal(VerifyCode.NotFound, answer.Code);
        Assert.Null(answer.KeyId);
        Assert.Empty(answer.Headers);
    }

    [Fact]
    public async Task RevokedKey_IsRevoked_EvenAfterItWasCached()
    {
        var (app, product, _, _) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);

        Assert.True((await _db.Get<ApplicationService>().RevokeKeyAsync(app.Developer, app.Id, app.KeyId)).IsSuccess);

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task ExpiredKey_IsExpired()
    {
        var (app, product, plan, _) = await SubscribedAsync();
        var issued = await _db.Get<ApplicationService>().GenerateKeyAsync(app.Developer, app.Id,
            new GenerateApplicationKey { ExpiresAt = _db.Clock.GetUtcNow().AddHours(1) });
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(issued.Value.Key, product.Slug)).Code);

        _db.Clock.Advance(TimeSpan.FromHours(1));

        Assert.Equal(VerifyCode.Expired, (await VerifyAsync(issued.Value.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task SuspendedAccount_IsDisabled_AndActiveAgainAfterwards()
    {
        var (app, product, _, _) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);

        await SetAccountStatusAsync(app.AccountId, AccountStatus.Suspended);
        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(app.Key, product.Slug)).Code);

        await SetAccountStatusAsync(app.AccountId, AccountStatus.Active);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task PersonalKeyOfAnInactiveUser_IsDisabled_AndOfAnActiveUser_NotSubscribed()
    {
        var (product, _) = await ProductAsync();
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        var key = await _db.Get<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey { Name = "personal", Scopes = [Scopes.Read], OwnerId = user.Id });

        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(key.Value.Key, product.Slug)).Code);

        await _db.Get<UserService>().UpdateAsync(await _db.RootAsync(), user.Id, new UpdateUser { Status = UserStatus.Inactive });
        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(key.Value.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task WithoutAnApprovedSubscription_IsNotSubscribed()
    {
        var app = await AppAsync();
        var (product, plan) = await ProductAsync();
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);

        foreach (var status in new[] { SubscriptionStatus.Waiting, SubscriptionStatus.Rejected, SubscriptionStatus.Unsubscribed })
        {
            await using var db = await _db.OpenAsync();
            await db.Subscriptions.Where(s => s.ApplicationId == app.Id).ExecuteDeleteAsync();
            await SubscribeAsync(app, product, plan, status);
            var answer = await VerifyAsync(app.Key, product.Slug);
            Assert.Equal(VerifyCode.NotSubscribed, answer.Code);
            Assert.Equal(product.Id, answer.ProductId);
            Assert.Null(answer.SubscriptionId);
        }
    }

    [Fact]
    public async Task UnpublishedProduct_IsNotFound_WithoutASubscription_AndKeepsWorkingForApprovedOnes()
    {
        var (product, plan) = await ProductAsync(published: false);
        var subscribed = await AppAsync();
        await SubscribeAsync(subscribed, product, plan);
        var stranger = await AppAsync();

        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(stranger.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(subscribed.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task Checks_RunInOrder_KeyThenAccountThenProductThenSubscriptionThenRateLimitThenQuota()
    {
        var (app, product, plan, _) = await SubscribedAsync(rateLimit: 1, quota: 1);
        var revoked = await AppAsync();
        await _db.Get<ApplicationService>().RevokeKeyAsync(revoked.Developer, revoked.Id, revoked.KeyId);
        var suspended = await AppAsync();
        await SetAccountStatusAsync(suspended.AccountId, AccountStatus.Suspended);
        var unsubscribed = await AppAsync();

        // The key comes before the product: a revoked key asking about nothing is REVOKED.
        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(revoked.Key, "no-such-product")).Code);
        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(suspended.Key, "no-such-product")).Code);
        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(unsubscribed.Key, "no-such-product")).Code);
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(unsubscribed.Key, product.Slug)).Code);

        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        // Rate limit and quota both used up: the rate limit answers first.
        Assert.Equal(VerifyCode.RateLimited, (await VerifyAsync(app.Key, product.Slug)).Code);
        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        var quota = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.QuotaExceeded, quota.Code);
        Assert.Equal(plan.Id, quota.Plan!.Id);
    }

    [Fact]
    public async Task RefusedCalls_ConsumeNothing()
    {
        var (app, product, _, _) = await SubscribedAsync(rateLimit: 2, quota: 3);

        Assert.Equal(1, (await VerifyAsync(app.Key, product.Slug)).Ratelimit!.Remaining);
        Assert.Equal(0, (await VerifyAsync(app.Key, product.Slug)).Ratelimit!.Remaining);
        for (var i = 0; i < 5; i++)
        {
            var limited = await VerifyAsync(app.Key, product.Slug);
            Assert.Equal(VerifyCode.RateLimited, limited.Code);
            // A rate-limited call does not count against the quota (Tyk's complaint).
            Assert.Equal(1, limited.Quota!.Remaining);
        }

        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        var last = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.Valid, last.Code);
        Assert.Equal(0, last.Quota!.Remaining);
        var exceeded = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.QuotaExceeded, exceeded.Code);
        // ...and a call the quota refuses does not keep its rate-limit token: one is still left in this second.
        Assert.Equal(1, exceeded.Ratelimit!.Remaining);
        Assert.Equal(VerifyCode.QuotaExceeded, (await VerifyAsync(app.Key, product.Slug)).Code);

        await using var db = await _db.OpenAsync();
        await _db.Get<QuotaCounterStore>().FlushAsync();
        Assert.Equal(3, await db.QuotaCounters.Where(c => c.SubscriptionId == last.SubscriptionId).Select(c => c.Used).SingleAsync());
    }

    [Fact]
    public async Task RateLimit_LetsExactlyLimitCallsThroughPerClockAlignedWindow_ThenTellsWhenToRetry()
    {
        var (app, product, _, _) = await SubscribedAsync(rateLimit: 5, window: RateLimitWindow.Minute);
        _db.Clock.Advance(TimeSpan.FromSeconds(30.2));

        for (var i = 0; i < 5; i++) Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        var limited = await VerifyAsync(app.Key, product.Slug);

        Assert.Equal(VerifyCode.RateLimited, limited.Code);
        Assert.False(limited.Valid);
        // The window is 09:00:00–09:01:00 whatever the first call's time: 29.8 s left, rounded up.
        Assert.Equal(30, limited.RetryAfter);
        Assert.Equal(new LimitState(5, 0, 30, new DateTimeOffset(2026, 11, 23, 9, 1, 0, TimeSpan.Zero)), limited.Ratelimit);
        Assert.Equal("30", limited.Headers["Retry-After"]);
        Assert.Equal("0", limited.Headers["RateLimit-Remaining"]);
        Assert.Equal("5", limited.Headers["RateLimit-Limit"]);

        _db.Clock.Advance(TimeSpan.FromSeconds(29.7));
        Assert.Equal(VerifyCode.RateLimited, (await VerifyAsync(app.Key, product.Slug)).Code);
        _db.Clock.Advance(TimeSpan.FromSeconds(0.1));
        var next = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.Valid, next.Code);
        Assert.Equal(4, next.Ratelimit!.Remaining);
    }

    [Fact]
    public async Task RateLimit_IsExactUnderConcurrency()
    {
        var (app, product, _, _) = await SubscribedAsync(rateLimit: 50);
        await VerifyAsync(app.Key, product.Slug);
        _db.Clock.Advance(TimeSpan.FromSeconds(1));

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => VerifyAsync(app.Key, product.Slug))));

        Assert.Equal(50, answers.Count(a => a.Code == VerifyCode.Valid));
        Assert.Equal(150, answers.Count(a => a.Code == VerifyCode.RateLimited));
    }

    [Fact]
    public async Task Quota_200ConcurrentCallsAgainst100Remaining_GiveExactly100Valid()
    {
        var (app, product, plan, subscriptionId) = await SubscribedAsync(quota: 150, period: QuotaPeriod.Month);
        await using (var db = await _db.OpenAsync())
        {
            db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscriptionId, PeriodStart = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), Used = 50 });
            await db.SaveChangesAsync();
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => VerifyAsync(app.Key, product.Slug))));

        Assert.Equal(100, answers.Count(a => a.Code == VerifyCode.Valid));
        Assert.Equal(100, answers.Count(a => a.Code == VerifyCode.QuotaExceeded));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long?)i).ToHashSet(),
            answers.Where(a => a.Valid).Select(a => a.Quota!.Remaining).ToHashSet());
        var exceeded = answers.First(a => a.Code == VerifyCode.QuotaExceeded);
        // Until 1 December, midnight UTC.
        Assert.Equal(new LimitState(150, 0, (long)TimeSpan.FromDays(7).Add(TimeSpan.FromHours(15)).TotalSeconds,
            new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), exceeded.Quota);
        Assert.Equal(exceeded.Quota!.Reset, exceeded.RetryAfter);
        Assert.Equal("0", exceeded.Headers["RateLimit-Remaining"]);
        Assert.Equal(exceeded.RetryAfter.ToString(), exceeded.Headers["Retry-After"]);
    }

    [Fact]
    public async Task Quota_ResetsWithTheNextUtcDay()
    {
        var (app, product, _, _) = await SubscribedAsync(quota: 1);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.QuotaExceeded, (await VerifyAsync(app.Key, product.Slug)).Code);

        _db.Clock.Advance(TimeSpan.FromHours(15));

        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task Quota_SurvivesARestart()
    {
        var (app, product, _, subscriptionId) = await SubscribedAsync(quota: 5);
        for (var i = 0; i < 3; i++) Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        await _db.Get<QuotaCounterStore>().FlushAsync();

        await using var restarted = AnotherInstance();
        var verification = restarted.GetRequiredService<VerificationService>();
        var answers = new List<VerifyResult>();
        for (var i = 0; i < 3; i++) answers.Add((await verification.VerifyAsync(_gateway, new VerifyKey { Key = app.Key, Product = product.Slug })).Value);

        Assert.Equal([VerifyCode.Valid, VerifyCode.Valid, VerifyCode.QuotaExceeded], answers.Select(a => a.Code));
        Assert.Equal(1, answers[0].Quota!.Remaining);
        await restarted.GetRequiredService<QuotaCounterStore>().FlushAsync();
        await using var db = await _db.OpenAsync();
        Assert.Equal(5, await db.QuotaCounters.Where(c => c.SubscriptionId == subscriptionId).Select(c => c.Used).SingleAsync());
    }

    /// <summary>A second process over the same database and clock, as after a restart.</summary>
    private ServiceProvider AnotherInstance()
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(_db.Clock);
        services.AddPortalCore(_db.ConnectionString, _db.Provider);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task SteadyState_ReadsNoDatabase()
    {
        var (app, product, _, _) = await SubscribedAsync(rateLimit: 1000, quota: 1000);
        await VerifyAsync(app.Key, product.Slug);
        var keyLookups = _db.Get<ApiKeyService>().DatabaseLookups;
        var lookups = Verification.DatabaseLookups;

        for (var i = 0; i < 100; i++) Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);

        Assert.Equal(lookups, Verification.DatabaseLookups);
        Assert.Equal(keyLookups, _db.Get<ApiKeyService>().DatabaseLookups);
    }

    [Fact]
    public async Task Unsubscribing_EndsAccessOnTheNextVerification()
    {
        var (app, product, _, subscriptionId) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);

        Assert.True((await _db.Get<SubscriptionService>().UnsubscribeAsync(app.Developer, subscriptionId)).IsSuccess);

        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task ApprovingAWaitingSubscription_GrantsAccessOnTheNextVerification()
    {
        var app = await AppAsync();
        var (product, plan) = await ProductAsync();
        var subscriptions = _db.Get<SubscriptionService>();
        var waiting = await subscriptions.CreateAsync(app.Developer, new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = plan.Id });
        Assert.Equal(SubscriptionStatus.Waiting, waiting.Value.Status);
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);

        Assert.True((await subscriptions.ApproveAsync(await _db.RootAsync(), waiting.Value.Id, new DecideSubscription())).IsSuccess);

        var answer = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.Valid, answer.Code);
        Assert.Equal(waiting.Value.Id, answer.SubscriptionId);
    }

    [Fact]
    public async Task DeletingTheApplication_EndsAccess()
    {
        var (app, product, _, _) = await SubscribedAsync(quota: 10);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);

        Assert.True((await _db.Get<ApplicationService>().DeleteAsync(app.Developer, app.Id)).IsSuccess);

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(app.Key, product.Slug)).Code);
        // The counter of the deleted subscription has nothing to save to, and saving the rest still works.
        await _db.Get<QuotaCounterStore>().FlushAsync();
    }

    [Fact]
    public void ALookupStartedBeforeAnInvalidation_DoesNotStoreWhatItRead()
    {
        var cache = _db.Get<VerificationCache>();
        var generation = cache.Generation;
        cache.Invalidate();

        cache.Products.Put("payments", new ProductEntry(Guid.NewGuid(), true), generation);
        cache.Subscriptions.Put((Guid.NewGuid(), Guid.NewGuid()), null, generation);

        Assert.False(cache.Products.TryGet("payments", out _));
        cache.Products.Put("payments", new ProductEntry(Guid.NewGuid(), true), cache.Generation);
        Assert.True(cache.Products.TryGet("payments", out var stored));
        Assert.NotNull(stored);
    }

    [Fact]
    public async Task PlanChange_AppliesAfterInvalidation()
    {
        var (app, product, plan, _) = await SubscribedAsync(rateLimit: 1);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.RateLimited, (await VerifyAsync(app.Key, product.Slug)).Code);

        await using (var db = await _db.OpenAsync())
            await db.Plans.Where(p => p.Id == plan.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.RateLimit, 3));
        _db.Get<VerificationCache>().Invalidate();

        var answer = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.Valid, answer.Code);
        Assert.Equal(1, answer.Ratelimit!.Remaining);
    }

    [Fact]
    public async Task ADevelopersRefusedKeys_CountInTheirUsageSummaryAsInvalid_AnUnknownKeyInNobodys()
    {
        var (product, _) = await ProductAsync();
        var app = await AppAsync();
        var developer = app.Developer;
        await _db.Get<ApplicationService>().RevokeKeyAsync(developer, app.Id, app.KeyId);
        var keys = _db.Get<ApiKeyService>();
        var revokedPersonal = (await keys.CreateAsync(developer, new CreateApiKey { Name = "laptop", Scopes = [Scopes.Read] })).Value;
        await keys.RevokeAsync(developer, revokedPersonal.Id);
        var expiring = (await keys.CreateAsync(developer, new CreateApiKey
        {
            Name = "short", Scopes = [Scopes.Read], ExpiresAt = _db.Clock.GetUtcNow().AddHours(1),
        })).Value;
        _db.Clock.Advance(TimeSpan.FromHours(2));

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(revokedPersonal.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.Expired, (await VerifyAsync(expiring.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(ApiKeyFormat.Generate().Key, product.Slug)).Code);
        await _db.Get<UsageWriter>().DrainAsync();

        var now = _db.Clock.GetUtcNow();
        var window = new UsageSummaryQuery { From = now.AddHours(-1), To = now.AddHours(1) };
        var mine = (await _db.Get<UsageService>().SummaryAsync(developer, window)).Value.Verifications;
        Assert.Equal((3L, 0L, 3L), (mine.Total, mine.Valid, mine.Invalid));
        Assert.Equal([new OutcomeCount("REVOKED", 2), new OutcomeCount("EXPIRED", 1)], mine.ByCode);
        var stranger = (await _db.CreateUserAsync(Roles.Developer)).Actor;
        Assert.Equal(0, (await _db.Get<UsageService>().SummaryAsync(stranger, window)).Value.Verifications.Total);

        await using var db = await _db.OpenAsync();
        var events = await db.UsageEvents.AsNoTracking().Where(e => e.Outcome != null).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal([(app.KeyId, app.Id, null), (revokedPersonal.Id, null, developer.UserId), (expiring.Id, null, developer.UserId)],
            events.Select(e => (e.KeyId, e.ApplicationId, e.OwnerUserId)));
        // The unknown key is nobody's: counted per caller and minute, not a row of its own.
        Assert.Equal(1, await db.UsageRefusalMinutes.SumAsync(r => r.Count));
    }

    [Fact]
    public async Task EveryVerification_IsRecordedWithProductApplicationPlanAndCode()
    {
        var (app, product, plan, _) = await SubscribedAsync(rateLimit: 1);
        await VerifyAsync(app.Key, product.Slug);
        await VerifyAsync(app.Key, product.Slug);
        await VerifyAsync("not-a-key", product.Slug);

        await _db.Get<UsageWriter>().DrainAsync();

        await using var db = await _db.OpenAsync();
        var events = await db.UsageEvents.AsNoTracking().Where(e => e.Outcome != null).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["VALID", "RATE_LIMITED"], events.Select(e => e.Outcome));
        // The malformed key: counted per caller and minute (UsageRefusalMinutes) and in the outcome rollup, no row of its own.
        var refused = await db.UsageRefusalMinutes.SingleAsync();
        Assert.Equal(("Verification", "NOT_FOUND", 1L), (refused.Source, refused.Outcome, refused.Count));
        Assert.Equal(1, await db.UsageOutcomeHours.Where(o => o.Outcome == "NOT_FOUND").SumAsync(o => o.Count));
        Assert.All(events.Take(2), e =>
        {
            Assert.Equal(app.KeyId, e.KeyId);
            Assert.Equal(app.Id, e.ApplicationId);
            Assert.Equal(product.Id, e.ProductId);
            Assert.Equal(plan.Id, e.PlanId);
            Assert.Equal(VerificationService.ApiRoute, e.Route);
        });
        // Verifications count in the key's hourly usage like calls do.
        Assert.Equal(2, await db.UsageRollups.Where(r => r.KeyId == app.KeyId).SumAsync(r => r.Count));
    }

    [Fact]
    public async Task Caller_NeedsKeysVerify_OrAnonymousMode()
    {
        var (app, product, _, _) = await SubscribedAsync();
        var request = new VerifyKey { Key = app.Key, Product = product.Slug };
        var writeOnly = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Write])).Actor;
        var applicationKey = new Actor(Guid.Empty, "app", [], [], KeyId: app.KeyId) { ApplicationId = app.Id };

        Assert.IsType<ForbiddenError>((await Verification.VerifyAsync(writeOnly, request)).Error);
        Assert.IsType<ForbiddenError>((await Verification.VerifyAsync(applicationKey, request)).Error);
        Assert.IsType<ForbiddenError>((await Verification.VerifyAsync(null, request)).Error);
        Assert.True((await Verification.VerifyAsync(app.Developer, request)).IsSuccess);

        await using var anonymous = await TestDatabase.CreateAsync(s => s.Configure<PortalOptions>(o => o.Verification.AllowAnonymous = true));
        Assert.Equal(VerifyCode.NotFound, (await anonymous.Get<VerificationService>().VerifyAsync(null, request)).Value.Code);
    }

    [Fact]
    public async Task BadRequest_IsAValidationError()
    {
        var missing = await Verification.VerifyAsync(_gateway, new VerifyKey { Key = " ", Product = "" });
        var errors = Assert.IsType<ValidationError>(missing.Error).Errors;
        Assert.Contains("key", errors.Keys);
        Assert.Contains("product", errors.Keys);
        var tooLong = await Verification.VerifyAsync(_gateway, new VerifyKey { Key = new string('k', 513), Product = "p" });
        Assert.Contains("key", Assert.IsType<ValidationError>(tooLong.Error).Errors.Keys);
    }

    [Fact]
    public async Task TryKey_VerifiesTheActorsOwnKey_ThroughTheSameCounters()
    {
        var (app, product, _, _) = await SubscribedAsync(quota: 10);
        var tried = await Verification.TryKeyAsync(app.Developer, app.KeyId, product.Slug);
        Assert.Equal(VerifyCode.Valid, tried.Value.Code);
        Assert.Equal(9, tried.Value.Quota!.Remaining);
        Assert.Equal(8, (await VerifyAsync(app.Key, product.Slug)).Quota!.Remaining);

        var stranger = (await _db.CreateUserAsync(Roles.Developer)).Actor;
        Assert.IsType<NotFoundError>((await Verification.TryKeyAsync(stranger, app.KeyId, product.Slug)).Error);
        Assert.IsType<NotFoundError>((await Verification.TryKeyAsync(app.Developer, Guid.NewGuid(), product.Slug)).Error);
        var admin = (await _db.CreateUserAsync(Roles.Admin)).Actor;
        Assert.Equal(7, (await Verification.TryKeyAsync(admin, app.KeyId, product.Slug)).Value.Quota!.Remaining);
        Assert.Equal(VerifyCode.NotFound, (await Verification.TryKeyAsync(app.Developer, app.KeyId, "no-such-product")).Value.Code);

        await _db.Get<ApplicationService>().RevokeKeyAsync(app.Developer, app.Id, app.KeyId);
        var revoked = await Verification.TryKeyAsync(app.Developer, app.KeyId, product.Slug);
        Assert.Equal(VerifyCode.Revoked, revoked.Value.Code);
        Assert.Equal(app.KeyId, revoked.Value.KeyId);

        await _db.Get<UsageWriter>().DrainAsync();
        await using var db = await _db.OpenAsync();
        Assert.Equal(4, await db.UsageEvents.CountAsync(e => e.Route == VerificationService.TryItRoute));
    }

    [Fact]
    public async Task IdleWindowsAndSavedCounters_LeaveMemory()
    {
        var throttle = _db.Get<Throttle>();
        var quotas = _db.Get<QuotaCounterStore>();
        for (var i = 0; i < 3; i++)
        {
            var (app, product, _, _) = await SubscribedAsync(rateLimit: 10, quota: 10);
            await VerifyAsync(app.Key, product.Slug);
        }
        Assert.Equal(3, throttle.WindowCount);
        Assert.Equal(3, quotas.Count);

        _db.Clock.Advance(QuotaCounterStore.IdleAfter + TimeSpan.FromSeconds(1));
        throttle.Sweep();
        await quotas.FlushAsync();

        Assert.Equal(0, throttle.WindowCount);
        Assert.Equal(0, quotas.Count);
    }
}
