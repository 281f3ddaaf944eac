using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Features.Profile;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Account;

namespace Portal.Tests.Web.Pages;

/// <summary>Two-factor sign-in, its enrolment gate for admins, and the sign-in of an unconfirmed sign-up, over real HTTP.</summary>
public sealed partial class TwoFactorPagesTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private const string Password = "Passw0rd!";

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private static HttpClient NewBrowser(WebApplicationFactory<Program> app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string path, string handler, Dictionary<string, string> fields)
    {
        var form = await browser.GetStringAsync(path);
        fields["__RequestVerificationToken"] = AntiforgeryToken().Match(form).Groups[1].Value;
        fields["_handler"] = handler;
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email) =>
        PostFormAsync(browser, "/account/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = Password });

    private static async Task<UserDto> NewUserAsync(WebApplicationFactory<Program> app, string role) =>
        (await ((IServiceProvider)app.Services).GetRequiredService<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"twofactor-{Guid.NewGuid():N}@portal.test", DisplayName = "Two Factor", Password = Password, Roles = [role],
        })).Value;

    [Fact]
    public async Task SetupPage_Unauthenticated_RedirectsToLogin()
    {
        var response = await NewBrowser(factory).GetAsync("/account/two-factor");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location?.PathAndQuery);
    }

    [Fact]
    public async Task SecondStep_WithoutThePasswordStep_SaysTheSignInExpired()
    {
        var html = await NewBrowser(factory).GetStringAsync("/account/login/two-factor");
        Assert.Contains("This sign-in has expired", html);
        Assert.DoesNotContain("name=\"Input.Code\"", html);
    }

    [Fact]
    public async Task SetupPage_ForADeveloper_ShowsTheQrCodeAndKey()
    {
        var user = await NewUserAsync(factory, Roles.Developer);
        var browser = NewBrowser(factory);
        await SignInAsync(browser, user.Email);
        var html = await browser.GetStringAsync("/account/two-factor");
        Assert.Contains("src=\"data:image/png;base64,", html);
        Assert.Contains("data-testid=\"manual-key\"", html);
        Assert.DoesNotContain("Your role requires two-factor sign-in", html);
    }

    [Fact]
    public async Task SignIn_OfATwoFactorUser_AsksForTheCode_AWrongOneIsRefused_TheRightOneSignsIn()
    {
        var user = await NewUserAsync(factory, Roles.Developer);
        var actor = new Actor(user.Id, user.Email, user.Roles);
        var twoFactor = factory.Get<TwoFactorService>();
        var key = (await twoFactor.GetSetupAsync(actor)).Value.SharedKey;
        Assert.True((await twoFactor.EnableAsync(actor, new EnableTwoFactor { Code = Totp.Code(key) })).IsSuccess);

        var browser = NewBrowser(factory);
        var first = await SignInAsync(browser, user.Email);
        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.StartsWith("/account/login/two-factor", first.Headers.Location?.PathAndQuery);
        // Only the two-factor cookie so far: the portal's pages still send to sign-in.
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/applications")).StatusCode);

        var wrong = await PostFormAsync(browser, "/account/login/two-factor", "login-two-factor", new() { ["Input.Code"] = "000000" });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("That code is not right", await wrong.Content.ReadAsStringAsync());

        var right = await PostFormAsync(browser, "/account/login/two-factor", "login-two-factor", new() { ["Input.Code"] = Totp.Code(key) });
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/applications")).StatusCode);
    }

    [Fact]
    public async Task RequireTwoFactorForAdmins_SendsAdminsToEnrol_NotDevelopers_AndLeavesKeysAlone()
    {
        using var strict = factory.WithWebHostBuilder(b => b.UseSetting("Portal:Security:RequireTwoFactorForAdmins", "true"));
        var admin = await NewUserAsync(strict, Roles.Admin);
        var browser = NewBrowser(strict);
        await SignInAsync(browser, admin.Email);
        var gated = await browser.GetAsync("/users");
        Assert.Equal(HttpStatusCode.Redirect, gated.StatusCode);
        Assert.Equal("/account/two-factor", gated.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/account/profile")).StatusCode);
        Assert.Contains("Your role requires two-factor sign-in", await browser.GetStringAsync("/account/two-factor"));

        var developer = await NewUserAsync(strict, Roles.Developer);
        var devBrowser = NewBrowser(strict);
        await SignInAsync(devBrowser, developer.Email);
        Assert.Equal(HttpStatusCode.OK, (await devBrowser.GetAsync("/applications")).StatusCode);

        // Pages only: the admin's API key works without two-factor sign-in.
        var key = (await factory.IssueKeyAsync(admin.Id, ["read"])).Key;
        var api = strict.CreateClient();
        api.DefaultRequestHeaders.Add("X-Api-Key", key);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task RequireTwoFactorForAdmins_GatesThePagesCsvDownloadsToo()
    {
        using var strict = factory.WithWebHostBuilder(b => b.UseSetting("Portal:Security:RequireTwoFactorForAdmins", "true"));
        var admin = await NewUserAsync(strict, Roles.Admin);
        var browser = NewBrowser(strict);
        await SignInAsync(browser, admin.Email);
        foreach (var export in new[] { "/exports/users", "/exports/audit-log", "/exports/request-log" })
        {
            var gated = await browser.GetAsync(export);
            Assert.Equal(HttpStatusCode.Redirect, gated.StatusCode);
            Assert.Equal("/account/two-factor", gated.Headers.Location?.OriginalString);
        }

        // Once enrolled, the same browser downloads.
        var twoFactor = ((IServiceProvider)strict.Services).GetRequiredService<TwoFactorService>();
        var actor = new Actor(admin.Id, admin.Email, admin.Roles);
        var key = (await twoFactor.GetSetupAsync(actor)).Value.SharedKey;
        Assert.True((await twoFactor.EnableAsync(actor, new EnableTwoFactor { Code = Totp.Code(key) })).IsSuccess);
        await SignInAsync(browser, admin.Email);
        var signedIn = await PostFormAsync(browser, "/account/login/two-factor", "login-two-factor", new() { ["Input.Code"] = Totp.Code(key) });
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var file = await browser.GetAsync("/exports/users");
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("text/csv", file.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task UnconfirmedSignUp_SignInSaysWhy_OffersAResend_AndTheLinkPageAnswers()
    {
        using var confirming = factory.WithWebHostBuilder(b => b.UseSetting("Portal:SignUp:RequireConfirmedEmail", "true"));
        var email = $"unconfirmed-{Guid.NewGuid():N}@portal.test";
        var signedUp = await ((IServiceProvider)confirming.Services).GetRequiredService<SignUpService>()
            .SignUpAsync(email, "Not Yet", Password, linkBase: "http://localhost");
        Assert.True(signedUp.Value.ConfirmationRequired);

        var browser = NewBrowser(confirming);
        var refused = await SignInAsync(browser, email);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Confirm your email address first", html);
        Assert.Contains("Resend the confirmation email", html);

        // A wrong password learns nothing about the account.
        var wrong = await PostFormAsync(browser, "/account/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = "Wrong-pass1" });
        Assert.DoesNotContain("Confirm your email", await wrong.Content.ReadAsStringAsync());

        var token = AntiforgeryToken().Match(html).Groups[1].Value;
        var resend = await browser.PostAsync(AccountEndpoints.ResendConfirmationPath,
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["email"] = email }));
        Assert.Equal(HttpStatusCode.Redirect, resend.StatusCode);
        Assert.Equal("/account/login?confirmation=sent", resend.Headers.Location?.OriginalString);

        var invalid = await browser.GetStringAsync($"/account/confirm-email?user={signedUp.Value.User.Id}&token=garbage");
        Assert.Contains("invalid or expired", invalid);
    }
}
