using Portal.Tests.Support;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>Enrol an authenticator from the profile (the code computed from the shown key), sign out, sign in with a code, and with a recovery code once.</summary>
public sealed class TwoFactorJourneyTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Password = "Journey#Pass1";
    private BrowserSession _session = null!;

    private IPage Page => _session.Page;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Enrol_SignOut_SignInWithACode_AndARecoveryCodeWorksOnce()
    {
        const string name = "Careful Casey";
        var user = await server.CreateUserAsync(Roles.Developer, Password, displayName: name);
        var login = new LoginPage(Page);
        var layout = await login.SignInAsync(user.Email, Password, name);

        var profile = new ProfilePage(Page);
        await profile.GotoAsync();
        await layout.WaitForInteractiveAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Set up" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/account/two-factor"));
        var setup = new TwoFactorSetupPage(Page);
        var key = await setup.ReadKeyAsync();
        await Screenshot(Page, "two-factor-setup-1280x800");

        var codes = await setup.TurnOnAsync(Totp.Code(key));
        Assert.Equal(10, codes.Count);
        await Screenshot(Page, "two-factor-recovery-codes-1280x800");
        await setup.DoneLink.ClickAsync();
        await Expect(Page.GetByTestId("two-factor-chip")).ToHaveTextAsync("On");

        // The password alone no longer signs in: the second step asks for the code.
        await Page.GotoAsync("/");
        await layout.SignOutAsync(name);
        await login.GotoAsync();
        await login.SubmitAsync(user.Email, Password);
        await Expect(Page).ToHaveURLAsync(new Regex("/account/login/two-factor"));
        var second = new TwoFactorSignInPage(Page);
        await Screenshot(Page, "two-factor-sign-in-1280x800");
        await second.SubmitAsync("000000");
        await Expect(second.Error).ToContainTextAsync("That code is not right");
        await second.SubmitAsync(Totp.Code(key));
        await layout.ExpectSignedInAsAsync(name);

        // A recovery code signs in once.
        await layout.SignOutAsync(name);
        await SignInWithRecoveryCodeAsync(user.Email, codes[0]);
        await layout.ExpectSignedInAsAsync(name);
        await layout.SignOutAsync(name);
        await SignInWithRecoveryCodeAsync(user.Email, codes[0]);
        await Expect(second.Error).ToContainTextAsync("already used");
        await Expect(Page).ToHaveURLAsync(new Regex("/account/login/two-factor"));

        // The Users page shows who has it; a super-admin resets it after a confirmation.
        await new LoginPage(Page).SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await Page.GotoAsync("/users");
        var chip = Page.GetByTestId($"two-factor-{user.Email}");
        await Expect(chip).ToHaveTextAsync("On");
        await new LayoutPage(Page).WaitForInteractiveAsync();
        await Screenshot(Page, "users-two-factor-1280x800");
        await Page.GetByTestId($"reset-2fa-{user.Email}").ClickAsync();
        await Expect(Page.GetByTestId("confirm-message")).ToContainTextAsync("Turn off two-factor sign-in");
        await Page.GetByTestId("confirm-action").ClickAsync();
        await Expect(chip).ToHaveTextAsync("Off");
        _session.AssertNoConsoleErrors("two-factor sign-in");
    }

    [Fact]
    public async Task Screenshots_OnAPhone()
    {
        const string name = "Phone Piper";
        var user = await server.CreateUserAsync(Roles.Developer, Password, displayName: name);
        await using var phone = await browser.NewSessionAsync(server.BaseUrl, 390, 844);
        var login = new LoginPage(phone.Page);
        await login.GotoAsync();
        await login.SubmitAsync(user.Email, Password);
        await Expect(phone.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
        await phone.Page.GotoAsync("/account/two-factor");
        var setup = new TwoFactorSetupPage(phone.Page);
        var key = await setup.ReadKeyAsync();
        await Screenshot(phone.Page, "two-factor-setup-390x844");
        await setup.TurnOnAsync(Totp.Code(key));
        await Screenshot(phone.Page, "two-factor-recovery-codes-390x844");
        await phone.Page.GotoAsync("/account/profile");
        await new LayoutPage(phone.Page).WaitForInteractiveAsync();
        await Screenshot(phone.Page, "profile-two-factor-390x844");

        await using var other = await browser.NewSessionAsync(server.BaseUrl, 390, 844);
        var otherLogin = new LoginPage(other.Page);
        await otherLogin.GotoAsync();
        await otherLogin.SubmitAsync(user.Email, Password);
        await new TwoFactorSignInPage(other.Page).ExpectVisibleAsync();
        await Screenshot(other.Page, "two-factor-sign-in-390x844");
    }

    private async Task SignInWithRecoveryCodeAsync(string email, string code)
    {
        var login = new LoginPage(Page);
        await login.GotoAsync();
        await login.SubmitAsync(email, Password);
        var second = new TwoFactorSignInPage(Page);
        await second.UseRecoveryCode.ClickAsync();
        await Expect(Page.GetByLabel("Recovery code", new() { Exact = true })).ToBeVisibleAsync();
        await second.SubmitAsync(code);
    }

    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
