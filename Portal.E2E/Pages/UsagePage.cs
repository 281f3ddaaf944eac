using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /usage: a period toggle (usage-period: "24 hours", "7 days", "30 days"), metric cards (usage-metric with data-metric
/// calls, error-rate, verifications, keys; the figure in usage-metric-value), the calls chart (usage-calls-chart), the
/// verification outcomes (usage-verifications), top lists, or the empty state (usage-empty); "Request log" opens the log.
/// </summary>
public sealed class UsagePage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Usage", Level = 1, Exact = true });
    public ILocator Chart => page.GetByTestId("usage-calls-chart");
    public ILocator Verifications => page.GetByTestId("usage-verifications");

    public ILocator MetricValue(string metric) => page.Locator($"[data-testid=usage-metric][data-metric={metric}]").GetByTestId("usage-metric-value");

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/usage$"));
        await Expect(Heading).ToBeVisibleAsync();
    }
}
