using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Support;

public static class Interactive
{
    /// <summary>
    /// Clicks until <paramref name="appears"/> shows: a prerendered Blazor button ignores clicks until the
    /// circuit is connected, and there is no page event that says "now".
    /// </summary>
    public static async Task ClickUntilVisibleAsync(ILocator button, ILocator appears, int attempts = 10)
    {
        for (var i = 1; ; i++)
        {
            // A slow server may answer the previous click late: clicking again would hit what it opened (a dialog's overlay).
            if (i > 1 && await appears.IsVisibleAsync()) return;
            try
            {
                // A retry gives up quickly when what the first click opened (a dialog's overlay) now covers the button.
                await button.ClickAsync(i == 1 ? null : new() { Timeout = 2_000 });
            }
            catch (TimeoutException) when (i < attempts)
            {
                continue;
            }
            try
            {
                await Expect(appears).ToBeVisibleAsync(new() { Timeout = 3_000 });
                return;
            }
            catch (PlaywrightException) when (i < attempts)
            {
            }
        }
    }

    /// <summary>An option of an open MudSelect or menu, by its whole text: its role where MudBlazor gives one, else the popover's list item.</summary>
    public static ILocator PopoverOption(IPage page, string option) =>
        page.GetByRole(AriaRole.Option, new() { Name = option, Exact = true })
            .Or(page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^\\s*{System.Text.RegularExpressions.Regex.Escape(option)}\\s*$") }))
            .First;

    /// <summary>
    /// Clicks a copy button and returns what it put on the clipboard. The click travels to the server, which then asks the
    /// browser to write and shows "Copied to the clipboard." once the write is done; reading before that snackbar would race it.
    /// </summary>
    public static async Task<string> CopyToClipboardAsync(IPage page, ILocator copyButton)
    {
        var copied = page.GetByText("Copied to the clipboard.", new() { Exact = true });
        await ClickUntilVisibleAsync(copyButton, copied);
        return await page.EvaluateAsync<string>("navigator.clipboard.readText()");
    }
}
