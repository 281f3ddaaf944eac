using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /usage/requests: filters (Status, Key, Application, Product selects; a date range), a server-paged table whose rows
/// are tr.usage-request-row (status chip usage-status), and a details dialog (usage-request-details) a row click opens.
/// </summary>
public sealed class UsageRequestsPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Request log", Level = 1 });
    public ILocator Rows => page.Locator("tr.usage-request-row");
    public ILocator Details => page.GetByTestId("usage-request-details");

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/usage/requests"));
        await Expect(Heading).ToBeVisibleAsync();
        await Expect(Rows.First).ToBeVisibleAsync();
    }

    /// <summary>Picks a status filter ("5xx server errors", "404", …) from the Status select.</summary>
    public async Task FilterByStatusAsync(string option)
    {
        await page.GetByTestId("usage-filter-status").ClickAsync(new() { Force = true });
        await Support.Interactive.PopoverOption(page, option).ClickAsync();
        await Expect(page.Locator(".mud-popover-open .mud-list-item")).ToHaveCountAsync(0);
    }

    /// <summary>Clicks a row until its details dialog shows.</summary>
    public async Task OpenAsync(ILocator row) => await Support.Interactive.ClickUntilVisibleAsync(row, Details, attempts: 3);
}
