using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /subscriptions: status chips (subscriptions-status-filter; status-filter-waiting … status-filter-all, "Waiting 2"),
/// a Search field and a Product select over a table whose rows (tr.subscription-row: MudTable takes no attributes on
/// its rows) show the application, account, product, plan, status chip (data-status) and the icon buttons
/// subscription-approve / subscription-reject / subscription-unregister. Reject asks for an optional reason in the
/// "Reject registration" dialog, Unregister confirms in the "Unregister" message box.
/// </summary>
public sealed class SubscriptionsPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Subscriptions", Level = 1 });
    public ILocator StatusFilter => page.GetByTestId("subscriptions-status-filter");
    public ILocator Rows => page.Locator("tr.subscription-row");
    public ILocator Empty => page.GetByTestId("subscriptions-empty");
    public ILocator Search => page.GetByTestId("subscriptions-search").Locator("xpath=descendant-or-self::input");

    public ILocator StatusChip(string status) => page.GetByTestId($"status-filter-{status.ToLowerInvariant()}");

    public ILocator Dialog(string title) =>
        page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText(title, new() { Exact = true }) });

    /// <summary>The row of one application's registration to one product (both names as shown).</summary>
    public ILocator Row(string application, string product) =>
        Rows.Filter(new() { Has = page.GetByTestId("subscription-application").GetByRole(AriaRole.Link, new() { Name = application, Exact = true }) })
            .Filter(new() { Has = page.GetByTestId("subscription-product").GetByText(product, new() { Exact = true }) });

    public ILocator Status(ILocator row) => row.GetByTestId("subscription-status");

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/subscriptions"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Shows one status (waiting, approved, rejected, unsubscribed or all) and waits for the chip to be the selected one.</summary>
    public async Task ShowStatusAsync(string status)
    {
        var chip = StatusChip(status);
        await chip.ClickAsync();
        await Expect(chip).ToHaveAttributeAsync("data-selected", "true");
    }

    public async Task ExpectStatusAsync(string application, string product, string status) =>
        await Expect(Status(Row(application, product))).ToHaveAttributeAsync("data-status", status);

    /// <summary>
    /// Approve on the row; the list reloads: under Waiting the row leaves it, under All it turns APPROVED and keeps
    /// only Unregister.
    /// </summary>
    public async Task ApproveAsync(string application, string product)
    {
        var row = Row(application, product);
        var waiting = await StatusChip("waiting").GetAttributeAsync("data-selected") == "true";
        await row.GetByTestId("subscription-approve").ClickAsync();
        if (waiting)
        {
            await Expect(row).ToHaveCountAsync(0);
            return;
        }
        await Expect(Status(row)).ToHaveAttributeAsync("data-status", "APPROVED");
        await Expect(row.GetByTestId("subscription-approve")).ToHaveCountAsync(0);
    }

    /// <summary>Reject on the row with an optional reason; the list reloads, showing the row REJECTED (call it under All).</summary>
    public async Task RejectAsync(string application, string product, string? reason)
    {
        var row = Row(application, product);
        var dialog = Dialog("Reject registration");
        await Interactive.ClickUntilVisibleAsync(row.GetByTestId("subscription-reject"), dialog, attempts: 3);
        if (reason is not null) await dialog.GetByTestId("reject-reason").Locator("xpath=descendant-or-self::textarea").FillAsync(reason);
        await dialog.GetByTestId("reject-confirm").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(Status(row)).ToHaveAttributeAsync("data-status", "REJECTED");
    }

    /// <summary>Unregister on the row, confirmed in the dialog that names the application and the product; call it under All, where the row stays, UNSUBSCRIBED.</summary>
    public async Task UnregisterAsync(string application, string product)
    {
        var row = Row(application, product);
        var dialog = Dialog("Unregister");
        await Interactive.ClickUntilVisibleAsync(row.GetByTestId("subscription-unregister"), dialog, attempts: 3);
        await Expect(dialog).ToContainTextAsync(application);
        await Expect(dialog).ToContainTextAsync(product);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Unregister", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(Status(row)).ToHaveAttributeAsync("data-status", "UNSUBSCRIBED");
    }
}
