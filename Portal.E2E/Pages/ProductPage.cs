using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Domain;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /products/{slug}: plan cards (plan-card, data-plan) with Subscribe, which opens a dialog with the plan and the
/// application preselected (subscribe-confirm); "Your registrations" (product-registrations); and the "Try it" panel
/// (try-it): a key select preset to the developer's newest key, Verify (try-verify), and the answer: try-code
/// (data-code), try-plan, try-ratelimit, try-quota ("99 of 100 left · resets in …") and try-retry-after.
/// </summary>
public sealed class ProductPage(IPage page)
{
    public ILocator Header => page.GetByTestId("product-header");
    public ILocator Registrations => page.GetByTestId("product-registrations");
    public ILocator TryIt => page.GetByTestId("try-it");
    public ILocator VerifyButton => page.GetByTestId("try-verify");
    public ILocator Result => page.GetByTestId("try-result");
    public ILocator Code => page.GetByTestId("try-code");
    public ILocator Plan => page.GetByTestId("try-plan");
    public ILocator RateLimit => page.GetByTestId("try-ratelimit");
    public ILocator Quota => page.GetByTestId("try-quota");
    public ILocator RetryAfter => page.GetByTestId("try-retry-after");

    public ILocator PlanCard(string plan) => page.Locator($"[data-testid='plan-card'][data-plan='{plan}']");

    public ILocator Registration(string application) =>
        Registrations.Locator("tbody tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = application, Exact = true }) });

    public async Task ExpectVisibleAsync(string name)
    {
        await Expect(page).ToHaveURLAsync(new Regex("/products/[a-z0-9-]+$"));
        await Expect(Header.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 })).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Subscribe on the plan's card and confirm with the preselected application; returns when the dialog closed.</summary>
    public async Task SubscribeAsync(string plan)
    {
        var dialog = page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByTestId("subscribe-confirm") });
        await Interactive.ClickUntilVisibleAsync(PlanCard(plan).GetByTestId("subscribe"), dialog, attempts: 3);
        await dialog.GetByTestId("subscribe-confirm").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
    }

    public async Task ExpectRegistrationAsync(string application, string status) =>
        await Expect(Registration(application).GetByTestId("subscription-status")).ToHaveAttributeAsync("data-status", status);

    /// <summary>
    /// Verify, and wait for this check's answer: a different code, or a different count left in the quota (a VALID check
    /// takes one; a refused one takes nothing but then its code differs from the VALID before it). Returns the code.
    /// </summary>
    public async Task<string> VerifyAsync()
    {
        var before = await Result.CountAsync() == 0 ? null : new[] { await Code.GetAttributeAsync("data-code"), QuotaLeft(await Quota.InnerTextAsync()) };
        if (before is null)
        {
            await Interactive.ClickUntilVisibleAsync(VerifyButton, Result, attempts: 3);
        }
        else
        {
            await VerifyButton.ClickAsync();
            await page.WaitForFunctionAsync(
                @"([code, quota]) => {
                    const c = document.querySelector('[data-testid=try-code]'), q = document.querySelector('[data-testid=try-quota]');
                    return !!c && (c.dataset.code !== code || (!!q && q.textContent.split('·')[0].trim() !== quota));
                }", before);
        }
        return (await Code.GetAttributeAsync("data-code"))!;
    }

    private static string QuotaLeft(string text) => text.Split('·')[0].Trim();
}
