using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /applications/{id} and /portal-apps/{id}: the header (data-testid application-header), the keys table
/// (application-keys; each row shows the key id, a coloured dot with Active / Revoked, and a Revoke button), and
/// "Generate Key", which shows the new key once in the "New API key" dialog.
/// </summary>
public sealed class ApplicationDetailPage(IPage page)
{
    private static readonly Regex IdInUrl = new("/(?:applications|portal-apps)/([0-9a-fA-F-]{36})");

    public ILocator Header => page.GetByTestId("application-header");
    public ILocator Keys => page.GetByTestId("application-keys");
    public ILocator KeyRows => Keys.Locator("tbody tr").Filter(new() { Has = page.Locator("code") });
    public ILocator GenerateButton => page.GetByTestId("generate-key");

    public ILocator Dialog(string title) =>
        page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText(title, new() { Exact = true }) });

    public ILocator NewKeyDialog => Dialog("New API key");
    public ILocator NewKeyField => NewKeyDialog.GetByRole(AriaRole.Textbox, new() { Name = "API key", Exact = true });

    /// <summary>The "API Products" section: one row (tr.application-subscription) per registration, open ones first.</summary>
    public ILocator Products => page.GetByTestId("application-products");

    public ILocator ProductRows(string product) =>
        page.Locator("tr.application-subscription").Filter(new() { Has = page.GetByTestId("application-subscription-product").GetByText(product, new() { Exact = true }) });

    public ILocator KeyRow(string keyId) => KeyRows.Filter(new() { Has = page.Locator("code").GetByText(keyId, new() { Exact = true }) });
    public ILocator KeyStatus(string keyId) => KeyRow(keyId).GetByTestId("key-enabled");

    public Guid Id => Guid.Parse(IdInUrl.Match(page.Url).Groups[1].Value);

    public async Task ExpectVisibleAsync(string name)
    {
        await Expect(page).ToHaveURLAsync(IdInUrl);
        await Expect(Header.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true })).ToBeVisibleAsync();
        await Expect(Keys).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public async Task<IReadOnlyList<string>> KeyIdsAsync() =>
        [.. (await KeyRows.Locator("code").AllInnerTextsAsync()).Select(t => t.Trim())];

    /// <summary>
    /// Generate Key: the "New API key" dialog asks for an optional expiry (typed as dd/MM/yyyy), then shows the key once;
    /// returns the key id and the key, then closes it.
    /// </summary>
    public async Task<(string KeyId, string Key)> GenerateKeyAsync(DateTime? expiresOn = null)
    {
        var dialog = NewKeyDialog;
        await Interactive.ClickUntilVisibleAsync(GenerateButton, dialog, attempts: 3);
        if (expiresOn is { } day)
        {
            var expiry = dialog.Locator("[data-testid='generate-key-expiry']").Locator("xpath=descendant-or-self::input");
            await expiry.FillAsync(day.ToString("dd/MM/yyyy", System.Globalization.CultureInfo.InvariantCulture));
            await expiry.PressAsync("Tab");
        }
        await dialog.GetByTestId("generate-key-confirm").ClickAsync();
        await Expect(NewKeyField).Not.ToHaveValueAsync("");
        var key = await NewKeyField.InputValueAsync();
        var keyId = (await dialog.GetByTestId("new-key-id").InnerTextAsync()).Trim();
        await dialog.GetByTestId("dialog-done").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(KeyStatus(keyId)).ToContainTextAsync("Active");
        return (keyId, key);
    }

    /// <summary>Revoke on the key's row, confirmed in the "Revoke API key" message box; the row then shows Revoked.</summary>
    public async Task RevokeKeyAsync(string keyId)
    {
        var confirm = Dialog("Revoke API key");
        await Interactive.ClickUntilVisibleAsync(KeyRow(keyId).GetByTestId("revoke-key"), confirm, attempts: 3);
        await Expect(confirm).ToContainTextAsync(keyId);
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(KeyStatus(keyId)).ToContainTextAsync("Revoked");
        await Expect(KeyRow(keyId).GetByTestId("revoke-key")).ToHaveCountAsync(0);
    }
}
