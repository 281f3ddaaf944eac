using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Support;
using Portal.Web.Features.Billing;

namespace Portal.Tests.Web.Billing;

/// <summary>/billing with the real statement service; the fake clock stands at 2026-11-23 09:00 UTC.</summary>
public sealed class BillingPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly DateTimeOffset October = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset November = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    protected override void AddPageServices() => Services.AddSingleton(Db.Get<StatementService>());

    /// <summary>A developer whose application is on a metered plan (0.01 USD a call) since October, with calls in both months.</summary>
    private async Task<(Actor Developer, ApplicationDto App)> DeveloperAsync(string appName, long octoberCalls, long novemberCalls)
    {
        var (_, developer) = await Db.CreateUserAsync(Roles.Developer);
        var app = (await Db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = appName })).Value.Application;
        var plan = new Plan { Name = "Metered", Type = PlanType.Metered, UnitPrice = 0.01m, Currency = "USD" };
        var slug = $"maps-{Guid.NewGuid():N}"[..20];
        var product = new ApiProduct { Name = $"Maps {appName}", Slug = slug, Published = true, Plans = [plan] };
        var subscription = new Subscription
        {
            ApplicationId = app.Id, ApplicationName = app.Name, AccountId = app.AccountId, ProductId = product.Id, PlanId = plan.Id,
            Status = SubscriptionStatus.Approved, CreatedAt = October.AddDays(1), DecidedAt = October.AddDays(1),
        };
        await using var db = await Db.OpenAsync();
        db.Products.Add(product);
        db.Subscriptions.Add(subscription);
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscription.Id, PeriodStart = October, Used = octoberCalls });
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscription.Id, PeriodStart = November, Used = novemberCalls });
        await db.SaveChangesAsync();
        return (developer, app);
    }

    [Fact]
    public async Task Developer_SeesThisMonthSoFar_TheProjection_AndTheLines()
    {
        var (developer, _) = await DeveloperAsync("Storefront", 500, 1000);
        await DeveloperAsync("Someone else's", 100, 100);
        SignInAs(developer);

        var page = RenderWithProviders<BillingPage>();

        page.WaitForAssertion(() => Assert.Equal("10.00 USD", page.Find("[data-testid=statement] [data-testid=total]").TextContent.Trim()), Wait);
        Assert.Contains("Estimate to date", page.Find("[data-testid=statement]").TextContent);
        Assert.NotEmpty(page.Find("[data-testid=projected]").TextContent);
        var rows = page.FindAll(".statement-lines tbody tr");
        Assert.Contains("Storefront", Assert.Single(rows).TextContent);
        Assert.DoesNotContain("Someone else", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=reissue]"));
        Assert.Equal("/exports/billing-statements?month=2026-11", page.Find("[data-testid=export-csv]").GetAttribute("href"));
    }

    [Fact]
    public async Task Admin_SeesEveryAccountOfTheMonth_TotalsPerProduct_AndOpensOneStatement()
    {
        await DeveloperAsync("Storefront", 500, 1000);
        await DeveloperAsync("Backoffice", 100, 300);
        SignInAs(await Db.RootAsync());

        var page = RenderWithProviders<BillingPage>();

        page.WaitForAssertion(() => Assert.Equal("13.00 USD", page.Find("[data-testid=month-total]").TextContent.Trim()), Wait);
        Assert.Equal(2, page.FindAll(".product-totals tbody tr").Count);
        Assert.Equal(2, page.FindAll(".statement-accounts tbody tr").Count);
        Assert.Empty(page.FindAll("[data-testid=statement]"));

        page.FindAll(".statement-accounts tbody tr button")[0].Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=statement]")), Wait);
        // November is open: nothing to re-issue yet.
        Assert.Empty(page.FindAll("[data-testid=reissue]"));
    }

    [Fact]
    public async Task Admin_ReissuesAClosedMonth_AfterConfirming()
    {
        await DeveloperAsync("Storefront", 500, 1000);
        SignInAs(await Db.RootAsync());
        var page = RenderWithProviders<BillingPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(".statement-accounts tbody tr")), Wait);

        var month = page.FindComponent<MudBlazor.MudSelect<string>>();
        await page.InvokeAsync(() => month.Instance.ValueChanged.InvokeAsync("2026-10"));
        page.WaitForAssertion(() => Assert.Equal("5.00 USD", page.Find("[data-testid=month-total]").TextContent.Trim()), Wait);
        page.Find(".statement-accounts tbody tr button").Click();
        page.WaitForAssertion(() => Assert.Contains("revision 1", page.Find("[data-testid=statement]").TextContent), Wait);
        await using (var db = await Db.OpenAsync())
            await db.Plans.ExecuteUpdateAsync(s => s.SetProperty(p => p.UnitPrice, 0.02m));

        page.Find("[data-testid=reissue]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=dialog-reissue]"), Wait);
        page.Find("[data-testid=dialog-reissue]").Click();

        page.WaitForAssertion(() => Assert.Contains("revision 2", page.Find("[data-testid=statement]").TextContent), Wait);
        Assert.Equal("10.00 USD", page.Find("[data-testid=statement] [data-testid=total]").TextContent.Trim());
        Assert.Contains("Re-issued 2026-10", page.Markup);
    }

    [Fact]
    public async Task ReadOnly_HasNoReissueButton_OnAClosedMonth()
    {
        await DeveloperAsync("Storefront", 500, 1000);
        var (_, readOnly) = await Db.CreateUserAsync(Roles.ReadOnly);
        SignInAs(readOnly);
        var page = RenderWithProviders<BillingPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(".statement-accounts tbody tr")), Wait);
        var month = page.FindComponent<MudBlazor.MudSelect<string>>();
        await page.InvokeAsync(() => month.Instance.ValueChanged.InvokeAsync("2026-10"));
        page.WaitForAssertion(() => Assert.Equal("5.00 USD", page.Find("[data-testid=month-total]").TextContent.Trim()), Wait);
        page.Find(".statement-accounts tbody tr button").Click();
        page.WaitForAssertion(() => Assert.Contains("Closed", page.Find("[data-testid=statement]").TextContent), Wait);
        Assert.Empty(page.FindAll("[data-testid=reissue]"));
    }

    [Fact]
    public async Task EmptyMonth_SaysSo()
    {
        SignInAs(await Db.RootAsync());
        var page = RenderWithProviders<BillingPage>();
        page.WaitForAssertion(() => Assert.Contains("No account is billed", page.Find("[data-testid=no-statements]").TextContent), Wait);
    }
}
