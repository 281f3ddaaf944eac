using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Core.Webhooks;
using Portal.Tests.Support;
using Portal.Web.Features.Webhooks;

namespace Portal.Tests.Web.Webhooks;

/// <summary>The Webhooks pages and the endpoint dialog with the real service over SQLite.</summary>
public sealed partial class WebhooksPageTests : PortalBunitContext
{
    [System.Text.RegularExpressions.GeneratedRegex("whsec_[A-Za-z0-9+/=]+")]
    private static partial System.Text.RegularExpressions.Regex Secret();

    private Actor _root = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _root = await Db.RootAsync();
    }

    private async Task<WebhookCreated> EndpointAsync(string url = "https://hooks.example.test/crm") =>
        (await Db.Get<WebhookService>().CreateAsync(_root, WebhookServiceTests.Request(url, types: ["subscription.approved", "user.created"]))).Value;

    [Fact]
    public void List_WithoutEndpoints_ShowsTheEmptyStateWithAnAddButton()
    {
        SignInAs(_root);

        var page = RenderWithProviders<WebhooksPage>();

        page.WaitForAssertion(() => Assert.Contains("No webhook endpoints yet", page.Find("[data-testid=webhooks-empty]").TextContent));
        Assert.Contains("Add your first endpoint", page.Markup);
        Assert.NotNull(page.Find("[data-testid=add-webhook]"));
    }

    [Fact]
    public async Task List_ShowsEndpoints_WithTheirEvents_NeverTheSecret()
    {
        var created = await EndpointAsync();
        SignInAs(_root);

        var page = RenderWithProviders<WebhooksPage>();

        page.WaitForAssertion(() => Assert.Contains("https://hooks.example.test/crm", page.Markup));
        Assert.Contains("subscription.approved", page.Find("[data-testid=webhook-event-types]").TextContent);
        Assert.Contains("None yet", page.Markup);
        Assert.DoesNotContain(created.Secret, page.Markup);
        Assert.NotEmpty(page.FindAll("[data-testid=webhook-enabled]"));
    }

    [Fact]
    public async Task ReadOnly_SeesEverything_ButNoActions()
    {
        var created = await EndpointAsync();
        await Db.Get<WebhookService>().SendTestAsync(_root, created.Id);
        var (_, auditor) = await Db.CreateUserAsync(Roles.ReadOnly);
        SignInAs(auditor);

        var list = RenderWithProviders<WebhooksPage>();
        list.WaitForAssertion(() => Assert.Contains("https://hooks.example.test/crm", list.Markup));
        Assert.Empty(list.FindAll("[data-testid=add-webhook]"));
        Assert.Empty(list.FindAll("[data-testid=webhook-enabled]"));
        Assert.DoesNotContain("Actions for", list.Markup);
        Assert.NotEmpty(list.FindAll("[data-testid=webhook-enabled-chip]"));

        await DisposeComponentsAsync();
        var detail = RenderWithProviders<WebhookDetailPage>(("Id", created.Id));
        detail.WaitForAssertion(() => Assert.Contains("webhook.test", detail.Find("[data-testid=delivery-log]").TextContent));
        Assert.Contains(created.MaskedSecret, detail.Find("[data-testid=masked-secret]").TextContent);
        foreach (var action in new[] { "reveal-secret", "rotate-secret", "send-test", "retry-delivery", "edit-webhook", "toggle-webhook" })
            Assert.Empty(detail.FindAll($"[data-testid={action}]"));
    }

    [Fact]
    public async Task AddDialog_ShowsTheSecretOnce_AndTheEndpointIsSaved()
    {
        SignInAs(_root);
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => WebhookActions.AddAsync(dialogs, _root));

        provider.WaitForElement("form#webhook-form input").Change("https://receiver.example.test/portal");
        provider.Find("input[data-testid=webhook-all-events]").Change(true);
        provider.Find("form#webhook-form").Submit();

        string? secret = null;
        provider.WaitForAssertion(() =>
        {
            Assert.Contains("Copy this signing secret now", provider.Markup);
            secret = Secret().Match(provider.Markup).Value;
            Assert.StartsWith("whsec_", secret);
        });
        var saved = Assert.Single((await Db.Get<WebhookService>().ListAsync(_root, new PageQuery())).Value.Items);
        Assert.Equal("https://receiver.example.test/portal", saved.Url);
        Assert.Equal(WebhookEventTypes.All.Count, saved.EventTypes.Count);
        Assert.Equal(secret, (await Db.Get<WebhookService>().RevealSecretAsync(_root, saved.Id)).Value.Secret);
    }

    [Fact]
    public async Task AddDialog_BadUrlAndNoEvents_ShowFormErrors_AndSaveNothing()
    {
        SignInAs(_root);
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => WebhookActions.AddAsync(dialogs, _root));

        provider.WaitForElement("form#webhook-form input").Change("ftp://nope.example.test");
        provider.Find("form#webhook-form").Submit();

        provider.WaitForAssertion(() =>
        {
            Assert.Contains(WebhookRules.UrlMessage, provider.Markup);
            Assert.Contains("Choose at least one event type.", provider.Markup);
        });
        Assert.Empty(provider.FindAll("[data-testid=new-webhook-secret]"));
        Assert.Equal(0, (await Db.Get<WebhookService>().ListAsync(_root, new PageQuery())).Value.Total);
    }

    [Fact]
    public async Task Detail_MasksTheSecret_RevealShowsIt_AndTheLogListsDeliveries()
    {
        var created = await EndpointAsync();
        await Db.Get<WebhookService>().SendTestAsync(_root, created.Id);
        SignInAs(_root);

        var page = RenderWithProviders<WebhookDetailPage>(("Id", created.Id));
        page.WaitForAssertion(() => Assert.Contains("webhook.test", page.Find("[data-testid=delivery-log]").TextContent));
        Assert.DoesNotContain(created.Secret, page.Markup);
        Assert.Contains("Pending", page.Find("[data-testid=delivery-status]").TextContent);

        page.Find("[data-testid=reveal-secret]").Click();

        page.WaitForAssertion(() => Assert.Equal(created.Secret, Secret().Match(page.Markup).Value));
        Assert.Contains("recorded in the audit log", page.Markup);
    }

    [Fact]
    public async Task Detail_TheDeliveryLog_FiltersByStatus()
    {
        var created = await EndpointAsync();
        var succeeded = (await Db.Get<WebhookService>().SendTestAsync(_root, created.Id)).Value;
        await Db.Get<WebhookService>().SendTestAsync(_root, created.Id);
        await using (var db = await Db.OpenAsync())
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                db.WebhookDeliveries.Where(d => d.Id == succeeded.Id),
                u => u.SetProperty(d => d.Status, WebhookDeliveryStatus.Succeeded).SetProperty(d => d.Attempts, 1).SetProperty(d => d.LastStatusCode, 200));
        SignInAs(_root);

        var page = RenderWithProviders<WebhookDetailPage>(("Id", created.Id));
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=delivery-status]").Count));
        Assert.Equal("true", page.Find("[data-testid=delivery-filter-all]").GetAttribute("aria-pressed"));

        page.Find("[data-testid=delivery-filter-succeeded]").Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=delivery-status]")));
        Assert.Contains("Succeeded", page.Find("[data-testid=delivery-status]").TextContent);
        Assert.Equal("true", page.Find("[data-testid=delivery-filter-succeeded]").GetAttribute("aria-pressed"));

        page.Find("[data-testid=delivery-filter-pending]").Click();
        page.WaitForAssertion(() => Assert.Contains("Pending", Assert.Single(page.FindAll("[data-testid=delivery-status]")).TextContent));

        page.Find("[data-testid=delivery-filter-failed]").Click();
        page.WaitForAssertion(() => Assert.Contains("No failed deliveries", page.Find("[data-testid=deliveries-empty]").TextContent));

        page.Find("[data-testid=delivery-filter-all]").Click();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=delivery-status]").Count));
    }

    [Fact]
    public async Task Detail_ADeliveryClaimedWhileTheLogReloads_IsWatchedUntilItsOutcomeShows()
    {
        var created = await EndpointAsync();
        SignInAs(_root);
        var page = RenderWithProviders<WebhookDetailPage>(("Id", created.Id));
        page.WaitForElement("[data-testid=send-test]").Click();
        page.WaitForAssertion(() => Assert.Contains("Pending", page.Find("[data-testid=delivery-status]").TextContent));

        // A dispatcher claims it: NextAttemptAt moves to the claim's end while the request is under way; the page
        // reloads meanwhile (each second), then the send succeeds.
        await using (var db = await Db.OpenAsync())
        {
            var claimedUntil = Db.Clock.GetUtcNow() + WebhookDispatcher.Lease;
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                db.WebhookDeliveries.Where(d => d.EndpointId == created.Id), u => u.SetProperty(d => d.NextAttemptAt, claimedUntil));
            await Task.Delay(TimeSpan.FromSeconds(2.5), Xunit.TestContext.Current.CancellationToken);
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                db.WebhookDeliveries.Where(d => d.EndpointId == created.Id),
                u => u.SetProperty(d => d.Status, WebhookDeliveryStatus.Succeeded).SetProperty(d => d.Attempts, 1).SetProperty(d => d.LastStatusCode, 200));
        }

        page.WaitForAssertion(() => Assert.Contains("Succeeded", page.Find("[data-testid=delivery-status]").TextContent), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Detail_UnknownId_SaysSo()
    {
        SignInAs(_root);

        var page = RenderWithProviders<WebhookDetailPage>(("Id", Guid.NewGuid()));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=webhook-not-found]")));
    }
}
