using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>The main layout around every signed-in page: app bar, navigation drawer and the user menu.</summary>
public sealed class LayoutPage(IPage page)
{
    public ILocator Navigation => page.GetByRole(AriaRole.Navigation).Or(page.Locator(".mud-navmenu")).First;

    public ILocator NavLink(string name) =>
        page.Locator(".mud-navmenu").GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    public ILocator UserMenuButton(string displayName) =>
        page.GetByLabel("User menu").GetByRole(AriaRole.Button, new() { Name = displayName, Exact = true }).First;

    public ILocator SignOutButton => page.GetByRole(AriaRole.Button, new() { Name = "Sign out" });

    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Level = 1 });

    /// <summary>The user menu shows the display name once the interactive layout has rendered.</summary>
    public async Task ExpectSignedInAsAsync(string displayName)
    {
        await Expect(page).Not.ToHaveURLAsync(new Regex("/account/login"));
        await Expect(UserMenuButton(displayName)).ToBeVisibleAsync();
        await WaitForInteractiveAsync();
    }

    /// <summary>Blazor Server is interactive once its circuit is up; clicks before that are lost.</summary>
    public async Task WaitForInteractiveAsync() =>
        // The layout renders this marker only from the circuit, in the same render that wires the page's buttons.
        await page.Locator("[data-circuit=interactive]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

    public async Task GoToAsync(string navLink)
    {
        // A click on the prerendered page navigates, but the circuit that starts afterwards may render the old route.
        await WaitForInteractiveAsync();
        await NavLink(navLink).ClickAsync();
    }

    public async Task<IReadOnlyList<string>> NavLinkNamesAsync()
    {
        var links = page.Locator(".mud-navmenu").GetByRole(AriaRole.Link);
        return [.. (await links.AllInnerTextsAsync()).Select(t => t.Trim()).Where(t => t.Length > 0)];
    }

    /// <summary>Clicks the name in the app bar, as a person would, until the menu with "Sign out" opens.</summary>
    public async Task OpenUserMenuAsync(string displayName) =>
        await Interactive.ClickUntilVisibleAsync(UserMenuButton(displayName), SignOutButton, attempts: 4);

    public async Task<LoginPage> SignOutAsync(string displayName)
    {
        await OpenUserMenuAsync(displayName);
        await SignOutButton.ClickAsync();
        await page.WaitForURLAsync(new Regex("/account/login"));
        var login = new LoginPage(page);
        await login.ExpectVisibleAsync();
        return login;
    }
}
