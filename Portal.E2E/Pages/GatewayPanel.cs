using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// The product page's "Call it through the gateway" panel (gateway-panel): the address (gateway-address), the curl
/// example (gateway-curl) naming the chosen key, and a request sent through the gateway (gateway-send → gateway-status).
/// </summary>
public sealed class GatewayPanel(IPage page)
{
    public ILocator Panel => page.GetByTestId("gateway-panel");
    public ILocator Address => page.GetByTestId("gateway-address");
    public ILocator Curl => page.GetByTestId("gateway-curl");
    public ILocator Status => page.GetByTestId("gateway-status");
    public ILocator RateLimit => page.GetByTestId("gateway-ratelimit");

    public async Task ExpectVisibleAsync() => await Expect(Panel).ToBeVisibleAsync();

    /// <summary>The curl example as shown (a comment line, then the command).</summary>
    public async Task<string> CurlTextAsync() => await Curl.InnerTextAsync();

    /// <summary>Sends the request as set (GET / by default) and returns the status shown.</summary>
    public async Task<string> SendAsync()
    {
        var before = await Status.CountAsync() == 0 ? null : await Status.InnerTextAsync();
        await page.GetByTestId("gateway-send").ClickAsync();
        if (before is null) await Expect(Status).ToBeVisibleAsync(new() { Timeout = 15_000 });
        return await Status.InnerTextAsync();
    }
}
