using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/portal-apps: every application in a grid, a "Search" field (name, reference id or account), names linking to /portal-apps/{id}.</summary>
public sealed class PortalAppsPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Portal Apps", Level = 1 });
    public ILocator Search => page.Locator("[data-testid='portal-apps-search']").Locator("xpath=descendant-or-self::input");
    public ILocator Empty => page.GetByTestId("portal-apps-empty");
    public ILocator Rows => page.Locator(".portal-apps-grid tbody tr").Filter(new() { Has = page.Locator("a.portal-apps-name") });

    public ILocator AppLink(string name) => page.GetByTestId($"app-{name}");

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/portal-apps"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Types into Search and waits for the debounced reload to leave only matching rows.</summary>
    public async Task SearchAsync(string text)
    {
        await Search.FillAsync(text);
        await Expect(Rows.First).ToBeVisibleAsync();
        await Expect(Rows.Filter(new() { HasNotText = text })).ToHaveCountAsync(0);
    }

    public async Task<ApplicationDetailPage> OpenAsync(string name)
    {
        await AppLink(name).First.ClickAsync();
        var detail = new ApplicationDetailPage(page);
        await detail.ExpectVisibleAsync(name);
        return detail;
    }
}
