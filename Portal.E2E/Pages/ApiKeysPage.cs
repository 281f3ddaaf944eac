using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /api-keys: four metric cards (aria-label = title), "Create API Key" opening the "Create API Key" dialog
/// (which then shows the key once in the read-only "API key" field), and per row an "Actions for {name}" menu
/// with Regenerate / Revoke / Delete; Revoke confirms in a "Revoke API key" message box.
/// </summary>
public sealed class ApiKeysPage(IPage page)
{
    public static readonly string[] MetricTitles = ["Total Keys", "Active Keys", "Expired Keys", "API Calls Today"];

    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "API Keys", Level = 1 });
    public ILocator CreateButton => page.GetByRole(AriaRole.Button, new() { Name = "Create API Key", Exact = true });

    public ILocator MetricCard(string title) => page.GetByLabel(title, new() { Exact = true });

    public ILocator Dialog(string title) =>
        page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText(title, new() { Exact = true }) });

    public ILocator CreateDialog => Dialog("Create API Key");

    public ILocator NewKeyField => CreateDialog.GetByRole(AriaRole.Textbox, new() { Name = "API key", Exact = true });

    public ILocator CopyKeyButton => CreateDialog.GetByRole(AriaRole.Button, new() { Name = "Copy key", Exact = true });

    /// <summary>The table row whose name cell is exactly <paramref name="name"/>.</summary>
    public ILocator Row(string name) =>
        page.GetByRole(AriaRole.Row).Filter(new() { Has = page.Locator("td[data-label='Name'] b").GetByText(name, new() { Exact = true }) });

    public ILocator StatusCell(string name) => Row(name).Locator("td[data-label='Status']");

    public ILocator ActionsMenu(string name) =>
        page.GetByRole(AriaRole.Button, new() { Name = $"Actions for {name}", Exact = true });

    public ILocator MenuItem(string text) =>
        page.GetByRole(AriaRole.Menuitem, new() { Name = text, Exact = true })
            .Or(page.Locator(".mud-popover-open .mud-menu-item, .mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(text)}\\s*$") }))
            .First;

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/api-keys"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public async Task ExpectMetricCardsAsync()
    {
        foreach (var title in MetricTitles)
        {
            await Expect(MetricCard(title)).ToBeVisibleAsync();
            await Expect(MetricCard(title)).ToContainTextAsync(title);
            await Expect(MetricCard(title).GetByTestId("metric-value")).ToHaveTextAsync(new Regex(@"^\s*\d[\d,]*\s*$"));
        }
    }

    /// <summary>Fills and submits the create dialog; returns the key the dialog shows once, with the dialog still open.</summary>
    public async Task<string> CreateKeyAsync(string name, string description, IReadOnlyList<string> scopes, string expiration)
    {
        var dialog = CreateDialog;
        await Interactive.ClickUntilVisibleAsync(CreateButton, dialog);
        await dialog.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await dialog.GetByLabel("Description", new() { Exact = true }).FillAsync(description);
        foreach (var scope in new[] { "read", "write", "admin" })
        {
            var box = dialog.GetByRole(AriaRole.Checkbox, new() { Name = scope, Exact = true });
            var want = scopes.Contains(scope);
            if (await box.IsCheckedAsync() != want) await box.ClickAsync();
            if (want) await Expect(box).ToBeCheckedAsync();
            else await Expect(box).Not.ToBeCheckedAsync();
        }
        await ChooseAsync(dialog, "Expiration", expiration);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(NewKeyField).ToBeVisibleAsync();
        await Expect(NewKeyField).Not.ToHaveValueAsync("");
        return await NewKeyField.InputValueAsync();
    }

    public async Task CloseKeyDialogAsync()
    {
        var dialog = CreateDialog;
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Done", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
    }

    /// <summary>Revoke from the row's actions menu, then confirm in the "Revoke API key" message box.</summary>
    public async Task RevokeAsync(string name)
    {
        var revoke = MenuItem("Revoke");
        await Interactive.ClickUntilVisibleAsync(ActionsMenu(name), revoke);
        await revoke.ClickAsync();
        var confirm = Dialog("Revoke API key");
        await Expect(confirm).ToBeVisibleAsync();
        await Expect(confirm).ToContainTextAsync(name);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(StatusCell(name)).ToContainTextAsync("Revoked");
    }

    /// <summary>A MudSelect: open it by its label and pick the option from the popover.</summary>
    private async Task ChooseAsync(ILocator dialog, string label, string option)
    {
        await dialog.GetByLabel(label, new() { Exact = true }).ClickAsync(new() { Force = true });
        await Support.Interactive.PopoverOption(page, option).ClickAsync();
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
    }
}
