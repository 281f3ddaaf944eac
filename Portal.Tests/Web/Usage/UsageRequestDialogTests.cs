using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;
using Portal.Web.Features.Usage;

namespace Portal.Tests.Web.Usage;

/// <summary>The request log's detail: who called, the sizes, and why a call was refused.</summary>
public sealed class UsageRequestDialogTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private async Task<(Actor Admin, long Id)> RecordAsync(LimitState? limit, RequestOrigin origin)
    {
        var admin = await Db.RootAsync();
        var now = Db.Clock.GetUtcNow();
        var plan = new Plan { Name = "Gold", Type = PlanType.Subscription, Quota = 10_000, QuotaPeriod = QuotaPeriod.Month };
        await using (var db = await Db.OpenAsync())
        {
            db.Products.Add(new ApiProduct { Name = "Payments", Slug = "payments", Published = true, CreatedAt = now, UpdatedAt = now, Plans = [plan] });
            await db.SaveChangesAsync();
        }
        Db.Get<UsageRecorder>().Record(new UsageRecord(now, Guid.NewGuid(), null, "GET", "/gateway/payments/{**path}", 429, 3,
            PlanId: plan.Id, Outcome: "QUOTA_EXCEEDED", Source: UsageSource.Gateway, Path: "/gateway/payments/v1/charges?limit=&cursor=",
            RequestBytes: 0, ResponseBytes: 2300, Origin: origin, Limit: limit));
        await Db.Get<UsageWriter>().DrainAsync();
        var page = await Db.Get<UsageService>().ListRequestsAsync(admin, new UsageRequestQuery { PageSize = 1 });
        return (admin, page.Value.Items[0].Id);
    }

    private IRenderedComponent<MudDialogProvider> Show(Actor actor, long id)
    {
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        provider.InvokeAsync(() => dialogs.ShowAsync<UsageRequestDialog>("GET /gateway/payments/{**path}",
            new DialogParameters<UsageRequestDialog> { { d => d.Actor, actor }, { d => d.RequestId, id } }));
        return provider;
    }

    [Fact]
    public async Task ARefusedGatewayCall_ShowsTheRuleAndItsNumbers_TheClientAndTheSizes()
    {
        var reset = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var (admin, id) = await RecordAsync(new LimitState(10_000, 0, 100, reset), new RequestOrigin(IPAddress.Parse("203.0.113.7"), "curl/8.5.0"));

        var cut = Show(admin, id);

        cut.WaitForAssertion(() =>
            Assert.Equal("QUOTA_EXCEEDED: 10,000 of 10,000 calls this month, resets 01/12/2026 00:00 UTC.",
                cut.Find("[data-testid=usage-request-explanation]").TextContent.Trim()), Wait);
        Assert.Empty(cut.FindAll("[data-testid=usage-request-approximate]"));
        Assert.Equal("/gateway/payments/v1/charges?limit=&cursor=", cut.Find("[data-testid=usage-request-path]").TextContent.Trim());
        Assert.Equal("203.0.113.7", cut.Find("[data-testid=usage-request-client]").TextContent.Trim());
        Assert.Equal("curl/8.5.0", cut.Find("[data-testid=usage-request-user-agent]").TextContent.Trim());
        Assert.Equal("request 0 B · response 2.2 KB", cut.Find("[data-testid=usage-request-bytes]").TextContent.Trim());
        Assert.StartsWith("Gateway", cut.Find("[data-testid=usage-request-source]").TextContent.Trim());
    }

    [Fact]
    public async Task WithoutRecordedFigures_TheExplanationSaysItIsApproximate_AndTheClientNotRecorded()
    {
        var (admin, id) = await RecordAsync(null, default);

        var cut = Show(admin, id);

        cut.WaitForAssertion(() => Assert.Contains("the plan as it is now", cut.Find("[data-testid=usage-request-explanation]").TextContent), Wait);
        Assert.NotNull(cut.Find("[data-testid=usage-request-approximate]"));
        Assert.Equal("— (not recorded)", cut.Find("[data-testid=usage-request-client]").TextContent.Trim());
    }
}
