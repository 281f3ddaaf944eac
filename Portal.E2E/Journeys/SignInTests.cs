using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

public sealed class SignInTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string UserPassword = "Journey#Pass1";
    private BrowserSession _session = null!;

    private IPage Page => _session.Page;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task SignIn_AsBootstrappedSuperAdmin_ShowsDashboardAndNav()
    {
        var layout = await new LoginPage(Page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);

        await Expect(Page).ToHaveURLAsync(new Regex(@"/$"));
        await Expect(layout.Heading).ToHaveTextAsync($"Welcome, {PortalServer.AdminDisplayName}");
        foreach (var link in new[] { "Dashboard", "Users", "Organisation", "Audit log" })
            await Expect(layout.NavLink(link)).ToBeVisibleAsync();
        _session.AssertNoConsoleErrors("the dashboard");
    }

    [Fact]
    public async Task SignOut_FromTheUserMenu_ReturnsToSignInAndEndsTheSession()
    {
        var layout = await new LoginPage(Page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);

        await layout.SignOutAsync(PortalServer.AdminDisplayName);
        await Page.GotoAsync("/");

        await Expect(Page).ToHaveURLAsync(new Regex("/account/login"));
        _session.AssertNoConsoleErrors("sign-out");
    }

    [Fact]
    public async Task SignIn_WithAWrongPassword_ShowsInvalidEmailOrPassword()
    {
        var login = new LoginPage(Page);
        await login.GotoAsync();

        await login.SubmitAsync(PortalServer.AdminEmail, "not-the-password");

        await login.ExpectErrorAsync(LoginPage.InvalidCredentials);
        await Expect(Page).ToHaveURLAsync(new Regex("/account/login"));
    }

    [Fact]
    public async Task WrongPasswordFiveTimes_LocksTheAccount()
    {
        var user = await server.CreateUserAsync(Roles.Admin, UserPassword);
        var login = new LoginPage(Page);
        await login.GotoAsync();

        for (var attempt = 1; attempt <= 4; attempt++)
        {
            await login.SubmitAsync(user.Email, $"Wrong#Pass{attempt}");
            await login.ExpectErrorAsync(LoginPage.InvalidCredentials);
        }
        await login.SubmitAsync(user.Email, "Wrong#Pass5");
        await login.ExpectErrorAsync(LoginPage.LockedOut);

        await login.SubmitAsync(user.Email, UserPassword);

        await login.ExpectErrorAsync(LoginPage.LockedOut);
        await Expect(Page).ToHaveURLAsync(new Regex("/account/login"));
    }

    [Fact]
    public async Task SignIn_Inactive_IsRefused()
    {
        var user = await server.CreateUserAsync(Roles.ReadOnly, UserPassword);
        var updated = await server.Get<UserService>().UpdateAsync(Actor.System, user.Id, new UpdateUser { Status = UserStatus.Inactive });
        Assert.True(updated.IsSuccess, updated.Error?.Detail);
        var login = new LoginPage(Page);
        await login.GotoAsync();

        await login.SubmitAsync(user.Email, UserPassword);

        await login.ExpectErrorAsync(LoginPage.Inactive);
        await Expect(Page).ToHaveURLAsync(new Regex("/account/login"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/users")]
    [InlineData("/organisation")]
    [InlineData("/audit")]
    public async Task UnauthenticatedVisit_RedirectsToLogin(string path)
    {
        await Page.GotoAsync(path);

        // The cookie handler writes ReturnUrl=%2Fusers, the Blazor router returnUrl=/users: either is fine.
        var rest = Regex.Escape(path.TrimStart('/'));
        await Expect(Page).ToHaveURLAsync(new Regex($@"/account/login\?(.*&)?returnUrl=(/|%2F){rest}(&|$)", RegexOptions.IgnoreCase));
        await new LoginPage(Page).ExpectVisibleAsync();
    }
}
