using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.Core.Common;
using Portal.Core.Features.Applications;
using Portal.Core.Features.SignUp;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>
/// A developer signs up, finds their first application, creates a second, uses its key over HTTP, generates and revokes
/// keys, removes it and its key stops working; a super-admin finds a developer's application in Portal Apps and issues it a key.
/// </summary>
public sealed class ApplicationsJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string DeveloperPassword = "Developer#Pass1";
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Developer_SignsUp_CreatesApp_UsesKey_GeneratesAndRevokes_RemovesApp_AndKeyIsRejected()
    {
        var page = _session.Page;
        var unique = Guid.NewGuid().ToString("N")[..8];
        var email = $"dev-{unique}@portal.e2e";
        var displayName = $"Dev {unique}";
        var appName = $"Billing service {unique}";

        // Sign up from the login page's link.
        var login = new LoginPage(page);
        await login.GotoAsync();
        await page.GetByRole(Microsoft.Playwright.AriaRole.Link, new() { Name = "Create an account", Exact = true }).ClickAsync();
        var signUp = new SignUpPage(page);
        await signUp.ExpectVisibleAsync();
        await signUp.SubmitAsync(email, displayName, DeveloperPassword);

        var apps = new MyApplicationsPage(page);
        await apps.ExpectVisibleAsync();
        // The first application's key, shown this once and never in the address.
        var (signUpKeyId, signUpKey) = await apps.TakeFirstKeyAsync();
        Assert.StartsWith("ptl_", signUpKey);
        Assert.DoesNotContain(signUpKey, page.Url);
        Assert.DoesNotContain(signUpKey, await page.ContentAsync());
        var layout = new LayoutPage(page);
        await layout.ExpectSignedInAsAsync(displayName);

        // The first application is there, with one active key: the one just shown, and it works.
        await Expect(apps.Card(SignUpService.FirstApplicationName)).ToBeVisibleAsync();
        await Expect(apps.Card(SignUpService.FirstApplicationName)).ToContainTextAsync("1 active key");
        var first = await apps.OpenAsync(SignUpService.FirstApplicationName);
        await Expect(first.KeyRows).ToHaveCountAsync(1);
        await Expect(first.KeyRows.First.GetByTestId("key-enabled")).ToContainTextAsync("Active");
        await Expect(first.KeyRow(signUpKeyId)).ToBeVisibleAsync();
        using (var signUpHttp = new HttpClient { BaseAddress = new Uri(server.BaseUrl) })
        using (var response = await GetApplicationAsync(signUpHttp, first.Id, Basic(signUpKeyId, signUpKey)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Shown once: a reload shows no key.
        await layout.GoToAsync("My Applications");
        await apps.ExpectVisibleAsync();
        await Expect(apps.FirstKeyDialog).ToHaveCountAsync(0);

        // A second application through the dialog; its key is shown once.
        await layout.GoToAsync("My Applications");
        await apps.ExpectVisibleAsync();
        var (firstKeyId, firstKey) = await apps.CreateAsync(appName, "Created by the E2E applications journey");
        Assert.False(string.IsNullOrWhiteSpace(firstKey));
        Assert.DoesNotContain(firstKey, await page.ContentAsync());
        await Expect(apps.Card(appName)).ToContainTextAsync("1 active key");

        var detail = await apps.OpenAsync(appName);
        var appId = detail.Id;
        await Expect(detail.KeyRow(firstKeyId)).ToBeVisibleAsync();

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        using (var response = await GetApplicationAsync(http, appId, Basic(firstKeyId, firstKey)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(appId, json.RootElement.GetProperty("id").GetGuid());
            Assert.Equal(appName, json.RootElement.GetProperty("name").GetString());
        }

        // Generate a second key, then revoke the first.
        var (newKeyId, newKey) = await detail.GenerateKeyAsync();
        Assert.NotEqual(firstKeyId, newKeyId);
        Assert.DoesNotContain(newKey, await page.ContentAsync());
        await Expect(detail.KeyRows).ToHaveCountAsync(2);
        await detail.RevokeKeyAsync(firstKeyId);
        await Expect(detail.KeyStatus(newKeyId)).ToContainTextAsync("Active");

        using (var response = await GetApplicationAsync(http, appId, Basic(firstKeyId, firstKey)))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var response = await GetApplicationAsync(http, appId, new AuthenticationHeaderValue("Bearer", newKey)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Remove the application; its remaining key stops working.
        await layout.GoToAsync("My Applications");
        await apps.ExpectVisibleAsync();
        await apps.RemoveAsync(appName);
        await Expect(apps.Card(SignUpService.FirstApplicationName)).ToBeVisibleAsync();

        using (var response = await GetApplicationAsync(http, appId, new AuthenticationHeaderValue("Bearer", newKey)))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var response = await GetApplicationAsync(http, appId, Basic(newKeyId, newKey)))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        _session.AssertNoConsoleErrors("the developer applications journey");
    }

    [Fact]
    public async Task SuperAdmin_FindsDevelopersApp_InPortalApps_AndGeneratesAKey()
    {
        var page = _session.Page;
        var unique = Guid.NewGuid().ToString("N")[..8];
        var appName = $"Partner feed {unique}";
        var signedUp = await server.Get<SignUpService>().SignUpAsync($"partner-{unique}@portal.e2e", $"Partner {unique}", DeveloperPassword);
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);
        var user = signedUp.Value.User;
        var created = await server.Get<ApplicationService>().CreateAsync(new Actor(user.Id, user.Email, user.Roles),
            new CreateApplication { Name = appName, Description = "A developer's application for the admin journey" });
        Assert.True(created.IsSuccess, created.Error?.Detail);

        var layout = await new LoginPage(page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Portal Apps");
        var portalApps = new PortalAppsPage(page);
        await portalApps.ExpectVisibleAsync();
        await portalApps.SearchAsync(appName);
        await Expect(portalApps.Rows).ToHaveCountAsync(1);

        var detail = await portalApps.OpenAsync(appName);
        await Expect(page).ToHaveURLAsync(new Regex($"/portal-apps/{created.Value.Application.Id}"));
        await Expect(detail.KeyRows).ToHaveCountAsync(1);
        var (keyId, key) = await detail.GenerateKeyAsync();
        Assert.False(string.IsNullOrWhiteSpace(key));
        Assert.DoesNotContain(key, await page.ContentAsync());
        await Expect(detail.KeyRows).ToHaveCountAsync(2);
        await Expect(detail.KeyStatus(keyId)).ToContainTextAsync("Active");

        _session.AssertNoConsoleErrors("the Portal Apps journey");
    }

    private static AuthenticationHeaderValue Basic(string keyId, string key) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{keyId}:{key}")));

    private static Task<HttpResponseMessage> GetApplicationAsync(HttpClient http, Guid id, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/applications/{id}");
        request.Headers.Authorization = authorization;
        return http.SendAsync(request);
    }
}
