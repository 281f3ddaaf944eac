using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /applications: one card per application (name links to /applications/{id}, an "N active key(s)" chip and an
/// "Actions for {name}" menu with Open / Remove), a "Create" button opening the "Create application" dialog that
/// shows the first key once; Remove confirms in the "Remove application" dialog.
/// </summary>
public sealed class MyApplicationsPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "My Applications", Level = 1 });
    public ILocator CreateButton => page.GetByTestId("create-application");
    public ILocator Empty => page.GetByTestId("applications-empty");
    public ILocator Cards => page.GetByTestId("application-card");

    public ILocator Dialog(string title) =>
        page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText(title, new() { Exact = true }) });

    public ILocator CreateDialog => Dialog("Create application");
    public ILocator RemoveDialog => Dialog("Remove application");

    /// <summary>Shown once, on the first visit after sign-up: the first application's key.</summary>
    public ILocator FirstKeyDialog => Dialog("Your first API key");

    public ILocator NewKeyField => CreateDialog.GetByRole(AriaRole.Textbox, new() { Name = "API key", Exact = true });

    public ILocator NameLink(string name) => Cards.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public ILocator Card(string name) => Cards.Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }) });

    public ILocator ActionsMenu(string name) =>
        page.GetByRole(AriaRole.Button, new() { Name = $"Actions for {name}", Exact = true });

    public ILocator MenuItem(string text) =>
        page.GetByRole(AriaRole.Menuitem, new() { Name = text, Exact = true })
            .Or(page.Locator(".mud-popover-open .mud-menu-item, .mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(text)}\\s*$") }))
            .First;

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/applications$"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Creates an application through the dialog; returns its key id and key, shown once, and closes the dialog.</summary>
    public async Task<(string KeyId, string Key)> CreateAsync(string name, string description)
    {
        var dialog = CreateDialog;
        await Interactive.ClickUntilVisibleAsync(CreateButton.First, dialog);
        await dialog.Locator("[data-testid='create-name']").Locator("xpath=descendant-or-self::input").FillAsync(name);
        await dialog.GetByLabel("Description").FillAsync(description);
        await dialog.GetByTestId("dialog-save").ClickAsync();
        var issued = await ReadKeyAndCloseAsync(dialog);
        await Expect(Card(name)).ToBeVisibleAsync();
        return issued;
    }

    /// <summary>Reads the key the sign-up issued from the "Your first API key" dialog and closes it.</summary>
    public async Task<(string KeyId, string Key)> TakeFirstKeyAsync()
    {
        // The dialog opens on the page's first interactive render: after sign-up's redirect the circuit has to start first.
        await Expect(FirstKeyDialog).ToContainTextAsync("cannot be retrieved later", new() { Timeout = 30_000 });
        return await ReadKeyAndCloseAsync(FirstKeyDialog);
    }

    /// <summary>A dialog showing a key once: its id and key, then "Done".</summary>
    private static async Task<(string KeyId, string Key)> ReadKeyAndCloseAsync(ILocator dialog)
    {
        var field = dialog.GetByRole(AriaRole.Textbox, new() { Name = "API key", Exact = true });
        await Expect(field).ToBeVisibleAsync();
        await Expect(field).Not.ToHaveValueAsync("");
        var key = await field.InputValueAsync();
        var keyId = (await dialog.GetByText("Key id (username):").Locator("code").InnerTextAsync()).Trim();
        await dialog.GetByTestId("dialog-done").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        return (keyId, key);
    }

    public async Task<ApplicationDetailPage> OpenAsync(string name)
    {
        await NameLink(name).ClickAsync();
        var detail = new ApplicationDetailPage(page);
        await detail.ExpectVisibleAsync(name);
        return detail;
    }

    /// <summary>Remove from the card's actions menu, confirmed in the "Remove application" dialog; the card goes.</summary>
    public async Task RemoveAsync(string name)
    {
        var remove = MenuItem("Remove");
        await Interactive.ClickUntilVisibleAsync(ActionsMenu(name), remove);
        await remove.ClickAsync();
        var confirm = RemoveDialog;
        await Expect(confirm).ToBeVisibleAsync();
        await Expect(confirm).ToContainTextAsync(name);
        await confirm.GetByTestId("dialog-remove").ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(Card(name)).ToHaveCountAsync(0);
    }
}
