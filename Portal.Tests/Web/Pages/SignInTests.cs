using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>The sign-in form over real HTTP: antiforgery, cookie, lockout, inactive users, audit.</summary>
public sealed partial class SignInTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private const string Password = "Passw0rd!";

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private sealed record Browser(HttpClient Client);

    private Browser NewBrowser() => new(factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
    }));

    private static async Task<HttpResponseMessage> SignInAsync(Browser browser, string email, string password)
    {
        var form = await browser.Client.GetStringAsync("/account/login");
        var token = AntiforgeryToken().Match(form).Groups[1].Value;
        return await browser.Client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "login",
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    private async Task<UserDto> NewUserAsync(string role = Roles.Developer) =>
        (await factory.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"signin-{Guid.NewGuid():N}@portal.test", DisplayName = "Sign In", Password = Password, Roles = [role],
        })).Value;

    [Theory]
    [InlineData("/")]
    [InlineData("/users")]
    [InlineData("/products")]
    [InlineData("/products/payments-api")]
    [InlineData("/organisation")]
    [InlineData("/audit")]
    [InlineData("/api-keys")]
    [InlineData("/subscriptions")]
    [InlineData("/applications")]
    [InlineData("/api-reference")]
    [InlineData("/webhooks")]
    [InlineData("/webhooks/0193a3c0-0000-7000-8000-000000000000")]
    [InlineData("/account/profile")]
    [InlineData("/account/change-password")]
    [InlineData("/portal-apps")]
    [InlineData("/portal-apps/0193a3c0-0000-7000-8000-000000000000")]
    [InlineData("/accounts")]
    [InlineData("/usage")]
    [InlineData("/usage/requests")]
    [InlineData("/billing")]
    [InlineData("/exports/billing-statements")]
    [InlineData("/exports/users")]
    [InlineData("/exports/audit-log")]
    public async Task Page_Unauthenticated_RedirectsToLogin(string path)
    {
        var response = await NewBrowser().Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location?.OriginalString.Replace("http://localhost", ""));
    }

    /// <summary>The pages' Export CSV buttons: a file where the role reads the list, and no file (the access-denied page) elsewhere.</summary>
    [Theory]
    [InlineData(Roles.Developer, "/exports/users", false)]
    [InlineData(Roles.Developer, "/exports/audit-log", false)]
    [InlineData(Roles.Developer, "/exports/request-log", true)]
    [InlineData(Roles.ReadOnly, "/exports/users", true)]
    [InlineData(Roles.ReadOnly, "/exports/audit-log", true)]
    [InlineData(Roles.Developer, "/exports/billing-statements", true)]
    [InlineData(Roles.ReadOnly, "/exports/billing-statements", true)]
    public async Task Export_ForRole_IsAFileOnlyWhereThePolicyAllows(string role, string path, bool allowed)
    {
        var user = await NewUserAsync(role);
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);

        var response = await browser.Client.GetAsync(path);

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/access-denied", response.Headers.Location?.PathAndQuery ?? response.Headers.Location?.OriginalString);
        }
    }

    [Fact]
    public async Task Help_SignedOut_Opens()
    {
        var response = await NewBrowser().Client.GetAsync("/help");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Portal App", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(Roles.Developer, "/users", false)]
    [InlineData(Roles.Developer, "/audit", false)]
    [InlineData(Roles.Developer, "/organisation", true)]
    [InlineData(Roles.Developer, "/api-keys", true)]
    [InlineData(Roles.ReadOnly, "/users", true)]
    [InlineData(Roles.ReadOnly, "/audit", true)]
    [InlineData(Roles.Admin, "/users", true)]
    [InlineData(Roles.Developer, "/products", true)]
    [InlineData(Roles.ReadOnly, "/products", true)]
    [InlineData(Roles.Admin, "/products", true)]
    [InlineData(Roles.SuperAdmin, "/products", true)]
    [InlineData(Roles.Developer, "/products/no-such-product", true)]
    [InlineData(Roles.ReadOnly, "/products/no-such-product", true)]
    [InlineData(Roles.Admin, "/products/no-such-product", true)]
    [InlineData(Roles.SuperAdmin, "/products/no-such-product", true)]
    [InlineData(Roles.Developer, "/portal-apps", false)]
    [InlineData(Roles.Developer, "/accounts", false)]
    [InlineData(Roles.ReadOnly, "/portal-apps", true)]
    [InlineData(Roles.ReadOnly, "/accounts", true)]
    [InlineData(Roles.Admin, "/portal-apps", true)]
    [InlineData(Roles.Admin, "/accounts", true)]
    [InlineData(Roles.Developer, "/subscriptions", false)]
    [InlineData(Roles.ReadOnly, "/subscriptions", true)]
    [InlineData(Roles.Admin, "/subscriptions", true)]
    [InlineData(Roles.SuperAdmin, "/subscriptions", true)]
    [InlineData(Roles.Developer, "/", true)]
    [InlineData(Roles.ReadOnly, "/", true)]
    [InlineData(Roles.Developer, "/api-reference", true)]
    [InlineData(Roles.ReadOnly, "/api-reference", true)]
    [InlineData(Roles.Admin, "/api-reference", true)]
    [InlineData(Roles.Developer, "/webhooks", false)]
    [InlineData(Roles.Developer, "/webhooks/0193a3c0-0000-7000-8000-000000000000", false)]
    [InlineData(Roles.ReadOnly, "/webhooks", true)]
    [InlineData(Roles.Admin, "/webhooks", true)]
    [InlineData(Roles.SuperAdmin, "/webhooks", true)]
    [InlineData(Roles.ReadOnly, "/webhooks/0193a3c0-0000-7000-8000-000000000000", true)]
    [InlineData(Roles.Developer, "/portal-apps/0193a3c0-0000-7000-8000-000000000000", false)]
    [InlineData(Roles.Developer, "/account/profile", true)]
    [InlineData(Roles.ReadOnly, "/account/profile", true)]
    [InlineData(Roles.Developer, "/account/two-factor", true)]
    [InlineData(Roles.Developer, "/usage/requests", true)]
    [InlineData(Roles.Developer, "/help", true)]
    public async Task Page_ForRole_OpensOnlyWhereThePolicyAllows(string role, string path, bool allowed)
    {
        var user = await NewUserAsync(role);
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);

        var response = await browser.Client.GetAsync(path);

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("Access denied", await response.Content.ReadAsStringAsync());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/access-denied", response.Headers.Location?.PathAndQuery ?? response.Headers.Location?.OriginalString);
            var denied = await browser.Client.GetStringAsync(response.Headers.Location);
            Assert.Contains("Access denied", denied);
        }
    }

    [Fact]
    public async Task SignIn_RightPassword_SetsCookieRecordsLastLoginAndAudit()
    {
        var user = await NewUserAsync();
        var browser = NewBrowser();

        var response = await SignInAsync(browser, user.Email, Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/")).StatusCode);
        Assert.NotNull((await factory.Get<UserService>().GetAsync(Actor.System, user.Id)).Value.LastLoginAt);
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SignInSucceeded && a.ActorId == user.Id));
    }

    [Fact]
    public async Task SignIn_WithoutAntiforgeryToken_IsRefused()
    {
        var user = await NewUserAsync();
        var response = await NewBrowser().Client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["Input.Email"] = user.Email, ["Input.Password"] = Password,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsGenericErrorAndAuditsFailure()
    {
        var user = await NewUserAsync();
        var response = await SignInAsync(NewBrowser(), user.Email, "wrong-password");
        Assert.Contains("Invalid email or password.", await response.Content.ReadAsStringAsync());
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SignInFailed && a.ActorEmail == user.Email));
    }

    [Fact]
    public async Task SignIn_FiveWrongPasswords_LockTheAccountFromThatAddressEvenForTheRightOne()
    {
        var user = await NewUserAsync();
        var browser = NewBrowser();
        for (var i = 0; i < 5; i++)
            await SignInAsync(browser, user.Email, "wrong-password");

        var response = await SignInAsync(browser, user.Email, Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Locked, it answers what an unknown email answers: "locked" would tell that the account exists.
        Assert.Equal(Portal.Web.Features.Account.LoginPage.FailedMessage, AlertOf(await response.Content.ReadAsStringAsync()));
        // Locked for this client address (the test server's, none: "unknown"), not for the account everywhere
        // (AccountThrottleTests: another address still signs in).
        Assert.True(await factory.Get<SignInLockout>().IsLockedAsync(user.Email, null));
    }

    [Fact]
    public async Task SignIn_UnknownEmail_WrongPassword_AndLockedAccount_AnswerTheSameText()
    {
        var user = await NewUserAsync();
        var locked = await NewUserAsync();
        for (var i = 0; i < 5; i++) await SignInAsync(NewBrowser(), locked.Email, "wrong-password");

        var unknown = AlertOf(await (await SignInAsync(NewBrowser(), $"nobody-{Guid.NewGuid():N}@portal.test", Password)).Content.ReadAsStringAsync());
        var wrong = AlertOf(await (await SignInAsync(NewBrowser(), user.Email, "wrong-password")).Content.ReadAsStringAsync());
        var lockedOut = AlertOf(await (await SignInAsync(NewBrowser(), locked.Email, Password)).Content.ReadAsStringAsync());

        Assert.Equal(Portal.Web.Features.Account.LoginPage.FailedMessage, unknown);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, lockedOut);
    }

    [Fact]
    public async Task SignIn_AControlCharacterInTheEmail_IsRefused_NeverAServerError()
    {
        // A NUL the form reader refuses itself (400); PostgreSQL could not have compared it.
        var nul = await SignInAsync(NewBrowser(), "ro\0ot@portal.test", Password);
        Assert.Equal(HttpStatusCode.BadRequest, nul.StatusCode);

        var response = await SignInAsync(NewBrowser(), "root\u202E@portal.test", Password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Portal.Web.Features.Account.LoginPage.FailedMessage, AlertOf(await response.Content.ReadAsStringAsync()));
    }

    private static string AlertOf(string html) =>
        System.Net.WebUtility.HtmlDecode(AlertText().Match(html).Groups[1].Value.Trim());

    [GeneratedRegex("<div class=\"account-alert\" role=\"alert\">([^<]*)</div>")]
    private static partial Regex AlertText();

    [Fact]
    public async Task SignIn_InactiveUser_IsRefused()
    {
        var user = await NewUserAsync();
        await factory.Get<UserService>().UpdateAsync(Actor.System, user.Id, new UpdateUser { Status = UserStatus.Inactive });

        var response = await SignInAsync(NewBrowser(), user.Email, Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("inactive", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SignIn_ReturnUrlElsewhere_IsIgnored()
    {
        var user = await NewUserAsync();
        var browser = NewBrowser();
        var form = await browser.Client.GetStringAsync("/account/login?returnUrl=//evil.example/");
        var token = AntiforgeryToken().Match(form).Groups[1].Value;
        var response = await browser.Client.PostAsync("/account/login?returnUrl=//evil.example/", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["_handler"] = "login", ["Input.Email"] = user.Email, ["Input.Password"] = Password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("evil", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task SignOut_ClearsTheSession()
    {
        var user = await NewUserAsync();
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);
        // Antiforgery tokens are bound to the signed-in user; any form page issues one.
        var page = await browser.Client.GetStringAsync("/account/login");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;

        var response = await browser.Client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.Client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task SessionCookie_IsReadForPages_NeverForTheApi()
    {
        var cookieReads = new ConcurrentQueue<string>();
        using var app = factory.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.PostConfigure<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme, o =>
            {
                var validate = o.Events.OnValidatePrincipal;
                o.Events.OnValidatePrincipal = context =>
                {
                    cookieReads.Enqueue(context.Request.Path);
                    return validate(context);
                };
            })));
        var user = await NewUserAsync();
        var browser = new Browser(app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = true,
        }));
        await SignInAsync(browser, user.Email, Password);

        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/")).StatusCode);
        Assert.Contains("/", cookieReads);
        // The API answers keys only: the session cookie is not even read there.
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.Client.GetAsync("/api/v1/me")).StatusCode);
        var key = await factory.IssueKeyAsync(user.Id, [Scopes.Read]);
        using var withKey = new HttpRequestMessage(HttpMethod.Get, "/api/v1/me") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", key.Key) } };
        Assert.Equal(HttpStatusCode.OK, (await browser.Client.SendAsync(withKey)).StatusCode);
        Assert.DoesNotContain(cookieReads, path => path.StartsWith("/api", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.SuperAdmin)]
    public async Task OwnRolesLowered_CookieFromBefore_NoLongerSignsIn(string role)
    {
        var user = await NewUserAsync(role);
        if (role == Roles.SuperAdmin) await NewUserAsync(Roles.SuperAdmin); // not the last super-admin: the change is allowed
        var browser = NewBrowser();
        var signIn = await SignInAsync(browser, user.Email, Password);
        var savedCookie = string.Join("; ", signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/subscriptions")).StatusCode);

        var self = new Actor(user.Id, user.Email, [role]);
        var lowered = await factory.Get<UserService>().UpdateAsync(self, user.Id, new UpdateUser { Roles = [Roles.ReadOnly] });
        Assert.True(lowered.IsSuccess, lowered.Error?.Detail);

        // The same browser at once (no minute's grace), and a copy of the cookie saved before the change.
        var again = await browser.Client.GetAsync("/subscriptions");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.StartsWith("/account/login", again.Headers.Location?.PathAndQuery ?? again.Headers.Location?.OriginalString);
        var replay = NewBrowser();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/subscriptions") { Headers = { { "Cookie", savedCookie } } };
        var replayed = await replay.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, replayed.StatusCode);
        Assert.StartsWith("/account/login", replayed.Headers.Location?.PathAndQuery ?? replayed.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task ACookieCheckedBecauseOfAChange_ThatStillMatches_IsReissued_AndKeepsWorking()
    {
        var user = await NewUserAsync(Roles.Admin);
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);
        // A change seen within the cookie's second (its stamp still matches: nothing was changed in the store).
        factory.Get<SignInChanges>().Notify(user.Id);

        var checkedNow = await browser.Client.GetAsync("/subscriptions");

        Assert.Equal(HttpStatusCode.OK, checkedNow.StatusCode);
        Assert.Contains(checkedNow.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [], c => c.StartsWith("portal.auth="));
        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/subscriptions")).StatusCode);
    }

    [Fact]
    public async Task OwnRolesLowered_SignedInAgain_HasOnlyTheNewRoles()
    {
        var user = await NewUserAsync(Roles.Admin);
        var self = new Actor(user.Id, user.Email, [Roles.Admin]);
        Assert.True((await factory.Get<UserService>().UpdateAsync(self, user.Id, new UpdateUser { Roles = [Roles.Developer] })).IsSuccess);
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);

        var response = await browser.Client.GetAsync("/subscriptions");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/access-denied", response.Headers.Location?.PathAndQuery ?? response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AccessDenied_SignedOut_OffersSignIn()
    {
        var html = await NewBrowser().Client.GetStringAsync("/account/access-denied?ReturnUrl=%2Fsubscriptions");

        Assert.Contains("Access denied", html);
        Assert.Contains("href=\"/account/login?returnUrl=%2Fsubscriptions\"", html);
        Assert.DoesNotContain("Back to the dashboard", html);
    }

    [Fact]
    public async Task AccessDenied_SignedIn_StillPointsToTheDashboard()
    {
        var user = await NewUserAsync(Roles.Developer);
        var browser = NewBrowser();
        await SignInAsync(browser, user.Email, Password);

        var html = await browser.Client.GetStringAsync("/account/access-denied?ReturnUrl=%2Fusers");

        Assert.Contains("Back to the dashboard", html);
        Assert.DoesNotContain("/account/login?returnUrl", html);
    }
}
