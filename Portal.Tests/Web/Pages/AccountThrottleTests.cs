using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>
/// Sign-in, sign-up and forgot-password throttled per client address and per account, and a lockout per account and
/// address that an outsider cannot turn against the account's owner.
/// </summary>
public sealed partial class AccountThrottleTests : IDisposable
{
    private const string PeerHeader = "X-Test-Peer";
    private const string Password = "Passw0rd!long";

    private readonly PortalApiFactory _app = new(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
        services => services.AddSingleton<IStartupFilter, PeerAddress>(),
        new Dictionary<string, string?>
        {
            ["Portal:SignIn:PermitLimit"] = "20",
            ["Portal:SignUp:PermitLimit"] = "3",
            ["Portal:SignUp:PerEmailLimit"] = "2",
            ["Portal:PasswordReset:PermitLimit"] = "3",
        });

    public void Dispose() => _app.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex("<div class=\"account-alert\" role=\"alert\">([^<]*)</div>")]
    private static partial Regex Alert();

    private HttpClient Browser(string address)
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        client.DefaultRequestHeaders.Add(PeerHeader, address);
        return client;
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string path, string handler, Dictionary<string, string> fields)
    {
        var form = await browser.GetStringAsync(path);
        fields["__RequestVerificationToken"] = AntiforgeryToken().Match(form).Groups[1].Value;
        fields["_handler"] = handler;
        return await browser.PostAsync(path, new FormUrlEncodedContent(fields));
    }

    private static Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password) =>
        PostAsync(browser, "/account/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    private static Task<HttpResponseMessage> SignUpAsync(HttpClient browser, string email) =>
        PostAsync(browser, "/account/signup", "signup", new()
        {
            ["Input.Email"] = email, ["Input.DisplayName"] = "New Developer", ["Input.Password"] = Password, ["Input.ConfirmPassword"] = Password,
        });

    private static Task<HttpResponseMessage> ForgotAsync(HttpClient browser, string email) =>
        PostAsync(browser, "/account/forgot-password", "forgot-password", new() { ["Input.Email"] = email });

    private static bool SignedIn(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.TryGetValues("Set-Cookie", out var cookies)
        && cookies.Any(c => c.StartsWith("portal.auth=", StringComparison.Ordinal));

    private static string NewEmail() => $"throttle-{Guid.NewGuid():N}@portal.test";

    [Fact]
    public async Task SignIn_TooManyPostsFromOneAddress_Answer429WithAPage_WhileAnotherAddressSignsIn()
    {
        var flooder = Browser("203.0.113.10");
        for (var i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.OK, (await SignInAsync(flooder, NewEmail(), "wrong-password")).StatusCode);

        var refused = await SignInAsync(flooder, TestDatabase.AdminEmail, TestDatabase.AdminPassword);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null);
        var page = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Too many sign-in attempts from your network", page);
        Assert.Contains("href=\"/account/login\"", page);
        Assert.True(SignedIn(await SignInAsync(Browser("198.51.100.20"), TestDatabase.AdminEmail, TestDatabase.AdminPassword)));
    }

    [Fact]
    public async Task SignIn_AnOutsidersFailuresFromOneAddress_DoNotLockTheSuperAdminOutFromAnother()
    {
        const string outsider = "203.0.113.66";
        for (var i = 0; i < 6; i++) await SignInAsync(Browser(outsider), TestDatabase.AdminEmail, "guessing-" + i);

        // The outsider's address is locked out of the account, even with the right password, and told nothing more.
        var fromOutsider = await SignInAsync(Browser(outsider), TestDatabase.AdminEmail, TestDatabase.AdminPassword);
        Assert.False(SignedIn(fromOutsider));
        Assert.Equal(Portal.Web.Features.Account.LoginPage.FailedMessage, Alert().Match(await fromOutsider.Content.ReadAsStringAsync()).Groups[1].Value);
        Assert.True(await _app.Get<SignInLockout>().IsLockedAsync(TestDatabase.AdminEmail, outsider));

        // The super-admin, from their own address, signs in at once.
        Assert.True(SignedIn(await SignInAsync(Browser("198.51.100.7"), TestDatabase.AdminEmail, TestDatabase.AdminPassword)));
        Assert.False((await _app.Get<UserService>().GetAsync(Actor.System, (await _app.RootAsync()).UserId)).Value.LockedOut);
    }

    [Fact]
    public async Task SignIn_FailuresPerAccountAndAddress_LockThatPairOnly_AndASuccessForgetsThem()
    {
        const string address = "203.0.113.77";
        var email = (await _app.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = NewEmail(), DisplayName = "Locked", Password = Password, Roles = [Roles.Developer],
        })).Value.Email;
        var other = (await _app.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = NewEmail(), DisplayName = "Other", Password = Password, Roles = [Roles.Developer],
        })).Value.Email;

        for (var i = 0; i < 4; i++) await SignInAsync(Browser(address), other, "wrong-password");
        Assert.True(SignedIn(await SignInAsync(Browser(address), other, Password)));
        // Four failures and a success: the count starts again, four more do not lock.
        for (var i = 0; i < 4; i++) await SignInAsync(Browser(address), other, "wrong-password");
        Assert.False(await _app.Get<SignInLockout>().IsLockedAsync(other, address));

        for (var i = 0; i < 5; i++) await SignInAsync(Browser(address), email, "wrong-password");
        Assert.False(SignedIn(await SignInAsync(Browser(address), email, Password)));
        // The same address may still sign in to another account.
        Assert.True(SignedIn(await SignInAsync(Browser(address), other, Password)));
    }

    [Fact]
    public async Task SignUp_IsThrottledPerAddress_AndPerEmail()
    {
        var first = Browser("203.0.113.30");
        for (var i = 0; i < 3; i++) await SignUpAsync(first, NewEmail());
        var refused = await SignUpAsync(first, NewEmail());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many sign-up attempts from your network", await refused.Content.ReadAsStringAsync());

        // One email from several addresses: the third post is refused on the form, whatever the address.
        var email = NewEmail();
        await SignUpAsync(Browser("198.51.100.32"), email);
        await SignUpAsync(Browser("198.51.100.33"), email);
        var again = await SignUpAsync(Browser("198.51.100.34"), email);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        Assert.Contains("Too many sign-up attempts with this email", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ForgotPassword_IsThrottledPerAddress_OtherAddressesStillAsk()
    {
        var flooder = Browser("203.0.113.40");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(flooder, NewEmail())).StatusCode);

        var refused = await ForgotAsync(flooder, NewEmail());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many password reset requests", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(Browser("198.51.100.41"), NewEmail())).StatusCode);
    }

    /// <summary>The connection's address, as a test names it (the test server has none).</summary>
    private sealed class PeerAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, nextMiddleware) =>
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse(http.Request.Headers[PeerHeader].FirstOrDefault() ?? "127.0.0.1");
                return nextMiddleware(http);
            });
            next(app);
        };
    }
}
