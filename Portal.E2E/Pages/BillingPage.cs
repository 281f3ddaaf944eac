using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /billing: a month picker (month), Export CSV (export-csv), for admins the month's totals (month-total) and a row per
/// account with a "Statement" button; a statement panel (statement) with totals (total), the projection (projected) and lines.
/// </summary>
public sealed class BillingPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Billing", Level = 1, Exact = true });
    public ILocator MonthTotal => page.GetByTestId("month-total");
    public ILocator Export => page.GetByTestId("export-csv");
    public ILocator AccountRows => page.Locator(".statement-accounts tbody tr");
    public ILocator Statement => page.GetByTestId("statement");

    public ILocator StatementButton(string accountName) => page.GetByRole(AriaRole.Button, new() { Name = $"Statement of {accountName}" });

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/billing$"));
        await Expect(Heading).ToBeVisibleAsync();
    }
}
