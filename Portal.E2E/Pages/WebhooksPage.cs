using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /webhooks: "Add endpoint" opens the "Add webhook endpoint" dialog (URL, description, "All events" or grouped event
/// checkboxes), which then shows the signing secret once in the read-only "Signing secret" field with "Copy signing
/// secret"; each row links its URL to /webhooks/{id}.
/// </summary>
public sealed class WebhooksPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Webhooks", Level = 1 });
    public ILocator AddButton => page.GetByTestId("add-webhook");
    public ILocator AddDialog => page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText("Add webhook endpoint", new() { Exact = true }) });
    public ILocator SecretField => AddDialog.GetByRole(AriaRole.Textbox, new() { Name = "Signing secret", Exact = true });
    public ILocator CopySecretButton => AddDialog.GetByRole(AriaRole.Button, new() { Name = "Copy signing secret", Exact = true });

    public ILocator Link(string url) => page.GetByTestId("webhook-link").GetByText(url, new() { Exact = true });

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/webhooks$"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Fills and submits the dialog with every event type; returns the secret it shows once, the dialog still open.</summary>
    public async Task<string> AddEndpointAsync(string url, string description)
    {
        await Interactive.ClickUntilVisibleAsync(AddButton, AddDialog);
        await AddDialog.GetByLabel("Endpoint URL").FillAsync(url);
        await AddDialog.GetByLabel("Description").FillAsync(description);
        var all = AddDialog.GetByRole(AriaRole.Checkbox, new() { Name = "All events", Exact = true });
        await all.ClickAsync();
        await Expect(all).ToBeCheckedAsync();
        await AddDialog.GetByTestId("webhook-save").ClickAsync();
        await Expect(SecretField).ToBeVisibleAsync();
        return await SecretField.InputValueAsync();
    }

    public async Task CloseDialogAsync()
    {
        await AddDialog.GetByRole(AriaRole.Button, new() { Name = "Done", Exact = true }).ClickAsync();
        await Expect(AddDialog).ToBeHiddenAsync();
    }
}

/// <summary>/webhooks/{id}: header, the signing secret (masked; Reveal, Rotate) and the delivery log with "Send test event".</summary>
public sealed class WebhookDetailPage(IPage page)
{
    public ILocator UrlHeading => page.GetByTestId("webhook-url-heading");
    public ILocator SendTestButton => page.GetByTestId("send-test");
    public ILocator DeliveryLog => page.GetByTestId("delivery-log");
    public ILocator Deliveries(string eventType) => DeliveryLog.Locator("tbody tr").Filter(new() { HasText = eventType });

    /// <summary>One click (a second would send a second event), once the page is interactive; the snackbar confirms.</summary>
    public async Task SendTestAsync()
    {
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await Expect(SendTestButton).ToBeEnabledAsync();
        await SendTestButton.ClickAsync();
        await Expect(page.GetByText("Test event queued", new() { Exact = false })).ToBeVisibleAsync();
    }
}
