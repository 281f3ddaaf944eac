using System.Text.Json;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using Portal.Tests.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// An admin adds a webhook endpoint pointing at a receiver this test runs, copies the signing secret, sends a test
/// event and sees it succeed in the delivery log; the receiver got one signed request that the copied secret verifies.
/// </summary>
public sealed class WebhooksJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private readonly WebhookReceiver _receiver = new();
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync()
    {
        _session = await browser.NewSessionAsync(server.BaseUrl);
        await _session.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseUrl });
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Admin_AddsAnEndpoint_CopiesTheSecret_SendsATest_AndSeesItDelivered()
    {
        var page = _session.Page;
        var admin = await server.CreateUserAsync(Portal.Core.Common.Roles.Admin, "Admin#Pass123", displayName: "Webhook Admin");
        var layout = await new LoginPage(page).SignInAsync(admin.Email, "Admin#Pass123", "Webhook Admin");
        await layout.GoToAsync("Webhooks");
        var webhooks = new WebhooksPage(page);
        await webhooks.ExpectVisibleAsync();

        var secret = await webhooks.AddEndpointAsync(_receiver.Url, "E2E receiver");
        Assert.StartsWith("whsec_", secret);
        Assert.Equal(secret, await Interactive.CopyToClipboardAsync(page, webhooks.CopySecretButton));
        await webhooks.CloseDialogAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync());

        await webhooks.Link(_receiver.Url).ClickAsync();
        var detail = new WebhookDetailPage(page);
        await Expect(detail.UrlHeading).ToHaveTextAsync(_receiver.Url);
        await detail.SendTestAsync();

        // The log refreshes itself while a delivery is due.
        var row = detail.Deliveries("webhook.test");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("delivery-status")).ToHaveTextAsync("Succeeded", new() { Timeout = 20_000 });
        await Expect(row.GetByTestId("delivery-code")).ToHaveTextAsync("200");

        var received = Assert.Single(_receiver.Requests);
        Assert.Equal(received.ExpectedSignature(secret), received.Headers["webhook-signature"]);
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal("webhook.test", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(received.Headers["webhook-id"], body.RootElement.GetProperty("id").GetString());
        _session.AssertNoConsoleErrors("the Webhooks journey");
    }
}
