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
            await button.ClickAsync();
            try
            {
                await Expect(appears).ToBeVisibleAsync(new() { Timeout = 1_500 });
                return;
            }
            catch (PlaywrightException) when (i < attempts)
            {
            }
        }
    }
}
