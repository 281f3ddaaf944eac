using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MimeKit;
using Portal.Core.Common;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>Forgot password → the .eml in the pickup folder → the link → a new password → sign in; and a change on the profile.</summary>
public sealed class PasswordResetJourneyTests(PortalServer server, BrowserFixture browser, ITestOutputHelper output)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string OldPassword = "Journey#Pass1";
    private const string NewPassword = "Journey#Pass2-new";
    private BrowserSession _session = null!;

    private IPage Page => _session.Page;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task ForgotPassword_EmailLink_Reset_SignInWithTheNewPassword()
    {
        var user = await server.CreateUserAsync(Roles.Developer, OldPassword, displayName: "Forgetful Fran");
        var login = new LoginPage(Page);
        await login.GotoAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Forgot password?" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/account/forgot-password"));

        await new ForgotPasswordPage(Page).RequestAsync(user.Email);

        var mail = await WaitForMailAsync(user.Email);
        Assert.Equal("Reset your password", mail.Subject);
        var link = Regex.Match(mail.TextBody ?? "", @"https?://\S+/account/reset-password\?\S+").Value;
        Assert.StartsWith(server.BaseUrl, link);
        await Page.GotoAsync(link);
        await new ResetPasswordPage(Page).ResetAsync(NewPassword);

        await login.GotoAsync();
        await login.SubmitAsync(user.Email, OldPassword);
        await login.ExpectErrorAsync(LoginPage.InvalidCredentials);
        await login.SignInAsync(user.Email, NewPassword, "Forgetful Fran");

        // The link worked once.
        await Page.GotoAsync(link);
        await Expect(new ResetPasswordPage(Page).Error).ToContainTextAsync("invalid, already used or expired");
        _session.AssertNoConsoleErrors("the password reset");
    }

    [Fact]
    public async Task Profile_ChangePassword_StaysSignedIn_AndTheNewPasswordWorks()
    {
        var user = await server.CreateUserAsync(Roles.Developer, OldPassword, displayName: "Careful Cal");
        var layout = await new LoginPage(Page).SignInAsync(user.Email, OldPassword, "Careful Cal");
        await layout.OpenUserMenuAsync("Careful Cal");
        await Expect(Page.GetByRole(AriaRole.Menuitem, new() { Name = "Profile" }).Or(Page.GetByRole(AriaRole.Link, new() { Name = "Profile" })).First).ToBeVisibleAsync();
        var profile = new ProfilePage(Page);
        await profile.GotoAsync();
        await Expect(profile.RecentSignIns).ToBeVisibleAsync();
        await layout.WaitForInteractiveAsync();

        await profile.ChangePasswordLink.ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/account/change-password"));
        var change = new ChangePasswordPage(Page);
        await change.SubmitAsync("wrong-current", NewPassword);
        await Expect(change.FieldErrors.First).ToContainTextAsync("The current password is not correct.");

        await change.SubmitAsync(OldPassword, NewPassword);
        await Expect(Page).ToHaveURLAsync(new Regex("passwordChange=changed"));
        await Expect(profile.PasswordChangedNotice).ToContainTextAsync("Password changed");
        await layout.ExpectSignedInAsAsync("Careful Cal");
        await Screenshot(Page, "profile-1280x800");

        // Away from the profile, whose "Sign out of every other session" button would also match "Sign out".
        await Page.GotoAsync("/");
        await layout.ExpectSignedInAsAsync("Careful Cal");
        await layout.SignOutAsync("Careful Cal");
        await new LoginPage(Page).SignInAsync(user.Email, NewPassword, "Careful Cal");
    }

    [Fact]
    public async Task Screenshots_ForgotPassword_AndProfile_OnAPhone()
    {
        await Page.GotoAsync("/account/forgot-password");
        await Screenshot(Page, "forgot-password-1280x800");
        await using var phone = await browser.NewSessionAsync(server.BaseUrl, 390, 844);
        await phone.Page.GotoAsync("/account/forgot-password");
        await Screenshot(phone.Page, "forgot-password-390x844");

        var user = await server.CreateUserAsync(Roles.Developer, OldPassword, displayName: "Phone Pat");
        var phoneLogin = new LoginPage(phone.Page);
        await phoneLogin.GotoAsync();
        await phoneLogin.SubmitAsync(user.Email, OldPassword);
        await Expect(phone.Page).Not.ToHaveURLAsync(new Regex("/account/login"));
        await new ProfilePage(phone.Page).GotoAsync();
        await new LayoutPage(phone.Page).WaitForInteractiveAsync();
        await Screenshot(phone.Page, "profile-390x844");
    }

    private async Task<MimeMessage> WaitForMailAsync(string to)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (Directory.Exists(server.MailDirectory))
                foreach (var file in Directory.GetFiles(server.MailDirectory, "*.eml"))
                {
                    var message = await MimeMessage.LoadAsync(file);
                    if (message.To.Mailboxes.Any(m => m.Address == to)) return message;
                }
            await Task.Delay(200);
        }
        throw new TimeoutException($"No email to {to} in {server.MailDirectory}");
    }

    private async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(Artifacts.ScreenshotDirectory, $"{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
