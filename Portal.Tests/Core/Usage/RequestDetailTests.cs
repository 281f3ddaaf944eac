using System.Net;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

/// <summary>
/// The request detail: who called (address, user agent) and, for a refusal, the rule and the numbers
/// behind it, from what was recorded with the call or, for events without them, from the plan as it is now.
/// </summary>
public sealed class RequestDetailTests : IAsyncLifetime
{
    private static readonly RequestOrigin Curl = new(IPAddress.Parse("203.0.113.7"), "curl/8.5.0");

    private TestDatabase _db = null!;
    private Actor _gateway = null!;
    private Actor _admin = null!;

    private UsageService Usage => _db.Get<UsageService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;
        _admin = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private sealed record Subscribed(Actor Developer, ApplicationCreated App, ApiProduct Product, Plan Plan);

    private async Task<Subscribed> SubscribedAsync(int? rateLimit = null, RateLimitWindow window = RateLimitWindow.Second, long? quota = null,
        QuotaPeriod period = QuotaPeriod.Month, bool approved = true)
    {
        var developer = (await _db.CreateUserAsync(Roles.Developer)).Actor;
        var app = (await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = "Mobile iOS App" })).Value;
        var now = _db.Clock.GetUtcNow();
        var slug = $"payments-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Gold", Type = PlanType.Subscription, RateLimit = rateLimit, RateLimitWindow = window, Quota = quota, QuotaPeriod = period };
        var product = new ApiProduct { Name = "Payments", Slug = slug, Published = true, CreatedAt = now, UpdatedAt = now, Plans = [plan] };
        await using (var db = await _db.OpenAsync())
        {
            db.Products.Add(product);
            if (approved)
                db.Subscriptions.Add(new Subscription
                {
                    ApplicationId = app.Application.Id, ApplicationName = app.Application.Name, AccountId = app.Application.AccountId,
                    ProductId = product.Id, PlanId = plan.Id, Status = SubscriptionStatus.Approved, CreatedAt = now,
                });
            await db.SaveChangesAsync();
        }
        _db.Get<VerificationCache>().Invalidate();
        return new Subscribed(developer, app, product, plan);
    }

    private async Task<VerifyResult> VerifyAsync(Subscribed s, RequestOrigin origin = default)
    {
        var result = await _db.Get<VerificationService>().VerifyAsync(_gateway, new VerifyKey { Key = s.App.Key.Key, Product = s.Product.Slug }, default, origin);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    /// <summary>The newest event's detail, as the log's dialog and <c>GET /api/v1/usage/requests/{id}</c> read it.</summary>
    private async Task<UsageRequestDto> NewestAsync(Actor? actor = null)
    {
        await _db.Get<UsageWriter>().DrainAsync();
        var page = await Usage.ListRequestsAsync(actor ?? _admin, new UsageRequestQuery { PageSize = 1 });
        Assert.True(page.IsSuccess, page.Error?.Detail);
        var detail = await Usage.GetRequestAsync(actor ?? _admin, page.Value.Items[0].Id);
        Assert.True(detail.IsSuccess, detail.Error?.Detail);
        return detail.Value;
    }

    [Fact]
    public async Task QuotaExceeded_IsExplainedWithTheFiguresRecordedWithTheCall_AndItsClient()
    {
        var s = await SubscribedAsync(quota: 3, period: QuotaPeriod.Month);
        for (var i = 0; i < 3; i++) Assert.True((await VerifyAsync(s)).Valid);

        Assert.Equal(VerifyCode.QuotaExceeded, (await VerifyAsync(s, Curl)).Code);
        var detail = await NewestAsync();

        Assert.Equal("QUOTA_EXCEEDED", detail.Outcome);
        Assert.Equal(UsageSource.Verification, detail.Source);
        Assert.Equal("203.0.113.7", detail.ClientAddress);
        Assert.Equal("curl/8.5.0", detail.UserAgent);
        Assert.Equal((3L, 3L), (detail.LimitValue, detail.LimitUsed));
        // The test clock stands at 23/11/2026 09:00 UTC: the month's quota starts again on 1 December.
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), detail.LimitResetAt);
        Assert.Equal(new UsageExplanation("QUOTA_EXCEEDED", "3 of 3 calls this month, resets 01/12/2026 00:00 UTC.", FromPlanNow: false), detail.Explanation);
    }

    [Fact]
    public async Task RateLimited_SaysTheLimitPerWindow_AndWhenToRetry()
    {
        var s = await SubscribedAsync(rateLimit: 2, window: RateLimitWindow.Minute);
        Assert.True((await VerifyAsync(s)).Valid);
        Assert.True((await VerifyAsync(s)).Valid);

        var refused = await VerifyAsync(s, Curl);
        Assert.Equal(VerifyCode.RateLimited, refused.Code);
        var detail = await NewestAsync();

        Assert.Equal("RATE_LIMITED", detail.Explanation!.Code);
        Assert.Equal($"2 calls per minute, retry after {refused.RetryAfter} s.", detail.Explanation.Text);
        Assert.False(detail.Explanation.FromPlanNow);
    }

    [Fact]
    public async Task APlanChangedSinceTheCall_KeepsTheRecordedFigures_AndSaysWhatThePlanAllowsNow()
    {
        var s = await SubscribedAsync(quota: 1, period: QuotaPeriod.Day);
        Assert.True((await VerifyAsync(s)).Valid);
        Assert.Equal(VerifyCode.QuotaExceeded, (await VerifyAsync(s)).Code);
        await using (var db = await _db.OpenAsync())
            await db.Plans.Where(p => p.Id == s.Plan.Id).ExecuteUpdateAsync(u => u.SetProperty(p => p.Quota, 500));

        var why = (await NewestAsync()).Explanation!;

        Assert.Equal("1 of 1 calls today, resets 24/11/2026 00:00 UTC (the plan allows 500 now).", why.Text);
        Assert.True(why.FromPlanNow);
    }

    [Fact]
    public async Task ARefusalRecordedWithoutFigures_IsExplainedFromThePlanAsItIsNow_AndSaysSo()
    {
        var s = await SubscribedAsync(quota: 10_000, period: QuotaPeriod.Month);
        // As events recorded before the figures were kept: the code and the plan, nothing else.
        _db.Get<UsageRecorder>().Record(new UsageRecord(_db.Clock.GetUtcNow(), s.App.Key.Id, null, "POST", VerificationService.ApiRoute, 200, 1,
            s.App.Application.Id, s.Product.Id, s.Plan.Id, "QUOTA_EXCEEDED", UsageSource.Verification));

        var detail = await NewestAsync();

        Assert.Null(detail.LimitValue);
        Assert.Null(detail.ClientAddress);
        Assert.True(detail.Explanation!.FromPlanNow);
        Assert.StartsWith("10,000 of 10,000 calls this month, resets 01/12/2026 00:00 UTC", detail.Explanation.Text);
        Assert.Contains("not recorded", detail.Explanation.Text);
    }

    [Fact]
    public async Task NotSubscribed_NamesTheApplicationAndTheProduct()
    {
        var s = await SubscribedAsync(approved: false);
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(s)).Code);

        var why = (await NewestAsync()).Explanation!;

        Assert.Equal(new UsageExplanation("NOT_SUBSCRIBED", "Mobile iOS App had no APPROVED registration to Payments.", false), why);
    }

    [Fact]
    public async Task TheUserAgent_IsCutTo256Characters_AndAnIPv4CallerOnADualStackSocketShowsAsIPv4()
    {
        var s = await SubscribedAsync();
        var longAgent = "Mozilla/5.0 " + new string('x', 1000);
        _db.Get<UsageRecorder>().Record(new UsageRecord(_db.Clock.GetUtcNow(), s.App.Key.Id, null, "GET", "/api/v1/me", 200, 1, s.App.Application.Id,
            Origin: new RequestOrigin(IPAddress.Parse("::ffff:198.51.100.4"), longAgent)));

        var detail = await NewestAsync();

        Assert.Equal("198.51.100.4", detail.ClientAddress);
        Assert.Equal(longAgent[..256], detail.UserAgent);
        Assert.Null(detail.Explanation);
    }

    [Fact]
    public async Task ADeveloperSeesTheDetailOfTheirOwnApplicationsCalls_AnotherDevelopersIsNotFound()
    {
        var s = await SubscribedAsync(quota: 1);
        Assert.True((await VerifyAsync(s)).Valid);
        Assert.Equal(VerifyCode.QuotaExceeded, (await VerifyAsync(s, Curl)).Code);

        var own = await NewestAsync(s.Developer);
        var stranger = (await _db.CreateUserAsync(Roles.Developer)).Actor;

        Assert.Equal("QUOTA_EXCEEDED", own.Explanation!.Code);
        Assert.Equal("203.0.113.7", own.ClientAddress);
        Assert.IsType<NotFoundError>((await Usage.GetRequestAsync(stranger, own.Id)).Error);
    }
}
