using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.SignUp;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>The sign-up form over real HTTP: antiforgery, the new developer's account and first application, rate limit, closed sign-up.</summary>
public sealed partial class SignUpTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private const string Password = "Passw0rd!long";

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private static HttpClient NewBrowser(WebApplicationFactory<Program> app) => app.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
    });

    private static async Task<HttpResponseMessage> SignUpAsync(HttpClient browser, string email, string password, string? confirm = null)
    {
        var form = await browser.GetStringAsync("/account/signup");
        var token = AntiforgeryToken().Match(form).Groups[1].Value;
        return await browser.PostAsync("/account/signup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "signup",
            ["Input.Email"] = email,
            ["Input.DisplayName"] = "New Developer",
            ["Input.Password"] = password,
            ["Input.ConfirmPassword"] = confirm ?? password,
        }));
    }

    private static string NewEmail() => $"signup-{Guid.NewGuid():N}@portal.test";

    [Fact]
    public async Task SignUp_CreatesTheDeveloperAccountAndFirstApplication_AndSignsIn()
    {
        var browser = NewBrowser(factory);
        var email = NewEmail();

        var response = await SignUpAsync(browser, email, Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/applications", response.Headers.Location?.OriginalString.Replace("http://localhost", ""));
        var page = await browser.GetAsync("/applications");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var user = await db.Users.SingleAsync(u => u.Email == email);
        var accountIds = await db.AccountMembers.Where(m => m.UserId == user.Id).Select(m => m.AccountId).ToListAsync();
        var account = await db.Accounts.SingleAsync(a => accountIds.Contains(a.Id));
        Assert.Equal(AccountKind.Person, account.Kind);
        var app = await db.Applications.SingleAsync(a => a.AccountId == account.Id);
        Assert.Equal(SignUpService.FirstApplicationName, app.Name);
        Assert.True(await db.ApiKeys.AnyAsync(k => k.ApplicationId == app.Id && k.RevokedAt == null));
    }

    [Fact]
    public async Task SignUp_Page_LinksToSignInAndBack()
    {
        var browser = NewBrowser(factory);
        Assert.Contains("href=\"/account/login\"", await browser.GetStringAsync("/account/signup"));
        Assert.Contains("href=\"/account/signup\"", await browser.GetStringAsync("/account/login"));
    }

    [Fact]
    public async Task SignUp_TakenEmail_ShowsOnlyTheGenericMessage()
    {
        var email = NewEmail();
        await SignUpAsync(NewBrowser(factory), email, Password);

        var response = await SignUpAsync(NewBrowser(factory), email, Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Could not sign up with these details.", html);
        Assert.DoesNotContain("already registered", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("already exists", html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignUp_MismatchedPasswords_StaysOnTheForm()
    {
        var response = await SignUpAsync(NewBrowser(factory), NewEmail(), Password, "Different1!x");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("The passwords do not match.", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SignUp_WeakPassword_ShowsThePolicyOnThePasswordField()
    {
        var response = await SignUpAsync(NewBrowser(factory), NewEmail(), "short");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("account-field-error", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SignUp_Disabled_SaysClosed()
    {
        using var closed = factory.WithWebHostBuilder(b => b.UseSetting("Portal:SignUp:Enabled", "false"));
        var html = await NewBrowser(closed).GetStringAsync("/account/signup");
        Assert.Contains("Sign-up is closed", html);
        Assert.DoesNotContain("name=\"Input.Password\"", html);
    }

    [Fact]
    public async Task SignUp_TooManyPosts_Answers429WithAMessage()
    {
        using var limited = factory.WithWebHostBuilder(b => b.UseSetting("Portal:SignUp:PermitLimit", "1"));
        var browser = NewBrowser(limited);
        await SignUpAsync(browser, NewEmail(), "short");

        var refused = await SignUpAsync(NewBrowser(limited), NewEmail(), Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many sign-up attempts", await refused.Content.ReadAsStringAsync());
    }
}
