using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Billing;

public sealed class StatementServiceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset October = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset November = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private TestDatabase _db = null!;
    private Actor _root = null!;
    private StatementService Statements => _db.Get<StatementService>();

    public async ValueTask InitializeAsync()
    {
        // The fake clock stands at 2026-11-23 09:00 UTC: November is open, October closed.
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    internal sealed record Dev(Actor Actor, ApplicationDto App, string Key);

    private async Task<Dev> DeveloperAsync(string appName = "Storefront")
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var created = await _db.Get<ApplicationService>().CreateAsync(actor, new CreateApplication { Name = appName });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        return new Dev(actor, created.Value.Application, created.Value.Key.Key);
    }

    private async Task<(ApiProduct Product, Plan Plan)> ProductAsync(Plan plan, string name = "Payments API")
    {
        var now = _db.Clock.GetUtcNow();
        var slug = $"{name.ToLowerInvariant().Replace(' ', '-')}-{Guid.NewGuid():N}"[..30];
        var product = new ApiProduct { Name = name, Slug = slug, Published = true, RequiresApproval = false, CreatedAt = now, UpdatedAt = now, Plans = [plan] };
        await using var db = await _db.OpenAsync();
        db.Products.Add(product);
        await db.SaveChangesAsync();
        return (product, plan);
    }

    private static Plan Metered(decimal unitPrice, long? quota = null, QuotaPeriod period = QuotaPeriod.Month) =>
        new() { Name = "Metered", Type = PlanType.Metered, UnitPrice = unitPrice, Currency = "USD", Quota = quota, QuotaPeriod = period };

    private async Task<Guid> SubscribeAsync(Dev dev, ApiProduct product, Plan plan, DateTimeOffset? approvedAt = null,
        SubscriptionStatus status = SubscriptionStatus.Approved, DateTimeOffset? endedAt = null)
    {
        await using var db = await _db.OpenAsync();
        var at = approvedAt ?? October.AddDays(2);
        var subscription = new Subscription
        {
            ApplicationId = dev.App.Id, ApplicationName = dev.App.Name, AccountId = dev.App.AccountId,
            ProductId = product.Id, PlanId = plan.Id, Status = status, CreatedAt = at,
            DecidedAt = status is SubscriptionStatus.Approved or SubscriptionStatus.Unsubscribed ? at : null, EndedAt = endedAt,
        };
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync();
        _db.Get<VerificationCache>().Invalidate();
        return subscription.Id;
    }

    private async Task CountAsync(Guid subscriptionId, DateTimeOffset periodStart, long used)
    {
        await using var db = await _db.OpenAsync();
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscriptionId, PeriodStart = periodStart, Used = used });
        await db.SaveChangesAsync();
    }

    private async Task SetUnitPriceAsync(Guid planId, decimal price)
    {
        await using var db = await _db.OpenAsync();
        await db.Plans.Where(p => p.Id == planId).ExecuteUpdateAsync(s => s.SetProperty(p => p.UnitPrice, price));
    }

    private async Task<StatementDto> GetAsync(Actor actor, Guid accountId, string month)
    {
        var result = await Statements.GetAsync(actor, accountId, month);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    [Fact]
    public async Task Month_IsCountedInUtc_ACallAtTheLastMillisecondBelongsToTheMonthItWasIn()
    {
        var dev = await DeveloperAsync();
        var (product, plan) = await ProductAsync(Metered(0.5m, quota: 1000, period: QuotaPeriod.Day));
        var (monthlyProduct, monthlyPlan) = await ProductAsync(Metered(0.5m, quota: 1000), "Maps API");
        await SubscribeAsync(dev, product, plan);
        await SubscribeAsync(dev, monthlyProduct, monthlyPlan);
        var verification = _db.Get<VerificationService>();
        var gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;

        async Task VerifyBothAsync()
        {
            foreach (var slug in new[] { product.Slug, monthlyProduct.Slug })
                Assert.Equal(VerifyCode.Valid, (await verification.VerifyAsync(gateway, new VerifyKey { Key = dev.Key, Product = slug })).Value.Code);
        }

        _db.Clock.SetUtcNow(new DateTimeOffset(2026, 11, 30, 23, 59, 59, 999, TimeSpan.Zero));
        await VerifyBothAsync();
        _db.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await VerifyBothAsync();
        await VerifyBothAsync();
        await _db.Get<ILimitStore>().FlushAsync();

        var nov = await GetAsync(dev.Actor, dev.App.AccountId, "2026-11");
        var dec = await GetAsync(dev.Actor, dev.App.AccountId, "2026-12");
        Assert.Equal([1L, 1L], nov.Lines.Select(l => l.Calls));
        Assert.Equal([2L, 2L], dec.Lines.Select(l => l.Calls));
        Assert.Equal(new CurrencyTotal("USD", 1.00m, 2), Assert.Single(nov.Totals));
        Assert.Equal(new CurrencyTotal("USD", 2.00m, 4), Assert.Single(dec.Totals));
        // At 00:00 on the 1st November has ended but is not frozen yet: the last flush may still be on its way.
        Assert.Equal(StatementStatus.Estimate, nov.Status);
        _db.Clock.Advance(StatementService.CloseDelay);
        Assert.Equal(StatementStatus.Closed, (await GetAsync(dev.Actor, dev.App.AccountId, "2026-11")).Status);
    }

    [Fact]
    public async Task ClosedMonth_IsFrozen_APriceEditDoesNotChangeIt_UntilAnAdminReissuesIt()
    {
        var dev = await DeveloperAsync();
        var (product, plan) = await ProductAsync(Metered(0.01m));
        var subscription = await SubscribeAsync(dev, product, plan);
        await CountAsync(subscription, October, 1000);

        var first = await GetAsync(dev.Actor, dev.App.AccountId, "2026-10");
        Assert.Equal((StatementStatus.Closed, (int?)1, 10.00m), (first.Status, first.Revision, Assert.Single(first.Totals).Amount));

        await SetUnitPriceAsync(plan.Id, 0.02m);
        var again = await GetAsync(dev.Actor, dev.App.AccountId, "2026-10");
        Assert.Equal((1, 10.00m), (again.Revision, Assert.Single(again.Totals).Amount));
        // The open month is priced as the plan is now.
        await CountAsync(subscription, November, 1000);
        Assert.Equal(20.00m, Assert.Single((await GetAsync(dev.Actor, dev.App.AccountId, "2026-11")).Totals).Amount);

        var reissued = await Statements.ReissueAsync(_root, dev.App.AccountId, "2026-10", new ReissueStatement { Reason = "Price correction" });
        Assert.True(reissued.IsSuccess, reissued.Error?.Detail);
        Assert.Equal((2, 20.00m, "Price correction"), (reissued.Value.Revision, Assert.Single(reissued.Value.Totals).Amount, reissued.Value.Reason));
        var shown = await GetAsync(dev.Actor, dev.App.AccountId, "2026-10");
        Assert.Equal((2, 20.00m), (shown.Revision, Assert.Single(shown.Totals).Amount));

        await using var db = await _db.OpenAsync();
        Assert.Equal([1, 2], await db.BillingStatements.Where(s => s.AccountId == dev.App.AccountId).OrderBy(s => s.Revision).Select(s => s.Revision).ToListAsync());
        var entry = await db.Audit.SingleAsync(a => a.Action == AuditActions.StatementReissued);
        Assert.Equal((dev.App.AccountId.ToString(), TestDatabase.AdminEmail), (entry.TargetId, entry.ActorEmail));
        Assert.Contains("2026-10 revision 2: USD 10.00 -> USD 20.00", entry.Details);
    }

    [Fact]
    public async Task Reissue_IsForAdminsAndClosedMonthsOnly()
    {
        var dev = await DeveloperAsync();
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);

        Assert.IsType<ForbiddenError>((await Statements.ReissueAsync(dev.Actor, dev.App.AccountId, "2026-10", new ReissueStatement())).Error);
        Assert.IsType<ForbiddenError>((await Statements.ReissueAsync(readOnly, dev.App.AccountId, "2026-10", new ReissueStatement())).Error);
        Assert.IsType<MonthStillOpen>((await Statements.ReissueAsync(_root, dev.App.AccountId, "2026-11", new ReissueStatement())).Error);
        Assert.IsType<NotFoundError>((await Statements.ReissueAsync(_root, Guid.NewGuid(), "2026-10", new ReissueStatement())).Error);
        Assert.IsType<ValidationError>((await Statements.ReissueAsync(_root, dev.App.AccountId, "2026-13", new ReissueStatement())).Error);
    }

    [Fact]
    public async Task CurrentMonth_IsAnEstimate_ProjectedByTheElapsedFraction()
    {
        var dev = await DeveloperAsync();
        var (product, plan) = await ProductAsync(Metered(0.01m));
        var subscription = await SubscribeAsync(dev, product, plan);
        await CountAsync(subscription, November, 1000);

        var statement = await GetAsync(dev.Actor, dev.App.AccountId, "2026-11");

        Assert.Equal(StatementStatus.Estimate, statement.Status);
        Assert.Null(statement.Revision);
        var fraction = (new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero) - November) / TimeSpan.FromDays(30);
        Assert.Equal(fraction, statement.Projection!.ElapsedFraction, 6);
        var line = Assert.Single(statement.Lines);
        var projected = (long)Math.Round(1000 / fraction);
        Assert.Equal((1000L, 10.00m, projected, Math.Round(projected * 0.01m, 2)), (line.Calls, line.Amount, line.ProjectedCalls!.Value, line.ProjectedAmount!.Value));
        Assert.Equal(line.ProjectedAmount, Assert.Single(statement.Projection.Totals).Amount);
    }

    [Fact]
    public async Task Lines_AreTheSubscriptionsBilledInTheMonth_WithBandsAndTotalsPerCurrency()
    {
        var dev = await DeveloperAsync();
        var (flat, flatPlan) = await ProductAsync(new Plan { Name = "Pro", Type = PlanType.Subscription, FlatFee = 49m, Currency = "EUR" }, "Flat API");
        var (tiered, tieredPlan) = await ProductAsync(new Plan
        {
            Name = "Tiers", Type = PlanType.Tiered, Currency = "USD", TierMode = TierMode.Graduated,
            Tiers = [new PlanTier { UpTo = 100, UnitPrice = 0 }, new PlanTier { UnitPrice = 0.1m }],
        }, "Tiered API");
        var (waiting, waitingPlan) = await ProductAsync(Metered(1m), "Waiting API");
        var (ended, endedPlan) = await ProductAsync(Metered(1m), "Ended API");
        await SubscribeAsync(dev, flat, flatPlan);
        var tieredId = await SubscribeAsync(dev, tiered, tieredPlan);
        await CountAsync(tieredId, November, 150);
        await SubscribeAsync(dev, waiting, waitingPlan, status: SubscriptionStatus.Waiting);
        await SubscribeAsync(dev, ended, endedPlan, approvedAt: October.AddDays(-40), status: SubscriptionStatus.Unsubscribed, endedAt: October.AddDays(-1));

        var statement = await GetAsync(dev.Actor, dev.App.AccountId, "2026-11");

        Assert.Equal(["Flat API", "Tiered API"], statement.Lines.Select(l => l.ProductName));
        var flatLine = statement.Lines[0];
        Assert.Equal((0L, 49m, "EUR"), (flatLine.Calls, flatLine.Amount, flatLine.Currency));
        var tieredLine = statement.Lines[1];
        Assert.Equal([(1L, (long?)100L, 100L, 0m), (101L, null, 50L, 5.0m)], tieredLine.Bands.Select(b => (b.From, b.UpTo, b.Calls, b.Amount)));
        Assert.Equal(5.00m, tieredLine.Amount);
        Assert.Equal([new CurrencyTotal("EUR", 49m, 0), new CurrencyTotal("USD", 5.00m, 150)], statement.Totals);
    }

    [Fact]
    public async Task Developer_SeesOnlyTheirAccounts()
    {
        var mine = await DeveloperAsync("Mine");
        var theirs = await DeveloperAsync("Theirs");
        var (product, plan) = await ProductAsync(Metered(0.01m));
        await SubscribeAsync(mine, product, plan);
        await SubscribeAsync(theirs, product, plan);

        Assert.IsType<NotFoundError>((await Statements.GetAsync(mine.Actor, theirs.App.AccountId, "2026-11")).Error);
        var list = await Statements.ListAsync(mine.Actor, new StatementQuery { Month = "2026-11" });
        Assert.Equal([mine.App.AccountId], list.Value.Items.Select(s => s.AccountId));
        var csv = await Statements.ExportAsync(mine.Actor, new StatementQuery { Month = "2026-11" });
        Assert.Equal([mine.App.AccountId], await csv.Value.Select(r => r.AccountId).ToListAsync());

        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var all = await Statements.ListAsync(readOnly, new StatementQuery { Month = "2026-11" });
        Assert.Equal(2, all.Value.Total);
        Assert.True((await Statements.GetAsync(readOnly, theirs.App.AccountId, "2026-11")).IsSuccess);
        var overview = (await Statements.OverviewAsync(readOnly, new StatementQuery { Month = "2026-11" })).Value;
        Assert.Equal((2, 2), (overview.Accounts, overview.Lines));
        Assert.Equal(2, Assert.Single(overview.Products).Subscriptions);
    }

    [Theory]
    [InlineData("2026-1")]
    [InlineData("2026-13")]
    [InlineData("november")]
    [InlineData("1999-12")]
    [InlineData("2026-12")]
    public async Task Month_ThatIsMalformedOrInTheFuture_IsAValidationError(string month)
    {
        var dev = await DeveloperAsync();
        var error = Assert.IsType<ValidationError>((await Statements.GetAsync(dev.Actor, dev.App.AccountId, month)).Error);
        Assert.Contains("month", error.Errors.Keys);
        Assert.IsType<ValidationError>((await Statements.ListAsync(dev.Actor, new StatementQuery { Month = month })).Error);
    }

    [Fact]
    public async Task ApplicationKey_MayNotReadStatements()
    {
        var dev = await DeveloperAsync();
        var app = new Actor(Guid.Empty, "app", [], []) { ApplicationId = dev.App.Id };
        Assert.IsType<ForbiddenError>((await Statements.GetAsync(app, dev.App.AccountId, "2026-11")).Error);
        Assert.IsType<ForbiddenError>((await Statements.ListAsync(app, new StatementQuery())).Error);
    }

    [Fact]
    public async Task CloseMonth_StoresEachBilledAccountOnce_EvenWhenRunTwiceAtOnce()
    {
        var (product, plan) = await ProductAsync(Metered(0.01m));
        var devs = new List<Dev>();
        for (var i = 0; i < 3; i++)
        {
            var dev = await DeveloperAsync($"App {i}");
            devs.Add(dev);
            await CountAsync(await SubscribeAsync(dev, product, plan), October, 100 * (i + 1));
        }

        var stored = await Task.WhenAll(Statements.CloseMonthAsync(October), Statements.CloseMonthAsync(October));
        Assert.Equal(3, stored.Sum());
        Assert.Equal(0, await Statements.CloseMonthAsync(October));
        // The open month is never stored.
        Assert.Equal(0, await Statements.CloseMonthAsync(November));

        await using var db = await _db.OpenAsync();
        Assert.Equal(3, await db.BillingStatements.CountAsync(s => s.Month == October));
        await SetUnitPriceAsync(plan.Id, 1m);
        var csv = await Statements.ExportAsync(_root, new StatementQuery { Month = "2026-10" });
        Assert.Equal([1.00m, 2.00m, 3.00m], (await csv.Value.Select(r => r.Line.Amount).ToListAsync()).Order());
    }

    [Fact]
    public async Task LastClosedMonth_WaitsForTheCloseDelay()
    {
        // A minute into November, October is not frozen yet; it is once the delay has passed.
        Assert.Equal(October.AddMonths(-1), StatementCloser.LastClosedMonth(November.AddMinutes(1)));
        Assert.Equal(October, StatementCloser.LastClosedMonth(November + StatementService.CloseDelay));
    }
}
