using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>The super-admin creates an API key in the UI, uses it against the API, revokes it in the UI, and it stops working.</summary>
public sealed class ApiKeysJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync()
    {
        _session = await browser.NewSessionAsync(server.BaseUrl);
        // The "Copy key" button writes to the clipboard; headless Chromium asks for permission otherwise.
        await _session.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseUrl });
    }

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task SuperAdmin_CreatesKey_UsesItOverHttp_RevokesIt_AndItIsRejected()
    {
        const string name = "E2E journey key";
        var page = _session.Page;
        var keys = new ApiKeysPage(page);

        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("API Keys");
        await keys.ExpectVisibleAsync();
        await keys.ExpectMetricCardsAsync();

        var key = await keys.CreateKeyAsync(name, "Created by the E2E journey", ["read", "write"], "Never");
        Assert.StartsWith("ptl_", key);
        await Expect(keys.CopyKeyButton).ToBeVisibleAsync();
        Assert.Equal(key, await Interactive.CopyToClipboardAsync(page, keys.CopyKeyButton));
        await keys.CloseKeyDialogAsync();

        await Expect(keys.Row(name)).ToBeVisibleAsync();
        await Expect(keys.StatusCell(name)).ToContainTextAsync("Active");
        Assert.DoesNotContain(key, await page.ContentAsync());

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        using (var response = await GetMeAsync(http, key))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var me = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(PortalServer.AdminEmail, me.RootElement.GetProperty("email").GetString(), ignoreCase: true);
        }

        await keys.RevokeAsync(name);
        await Expect(keys.StatusCell(name)).ToContainTextAsync("Revoked");
        Assert.DoesNotContain(key, await page.ContentAsync());

        using (var response = await GetMeAsync(http, key))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        _session.AssertNoConsoleErrors("the API Keys journey");
    }

    private static Task<HttpResponseMessage> GetMeAsync(HttpClient http, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http.SendAsync(request);
    }
}
