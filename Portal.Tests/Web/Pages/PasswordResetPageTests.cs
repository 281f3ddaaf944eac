using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using MimeKit;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>
/// Forgot password, reset and the profile's password change over real HTTP: the same answer for every address (in
/// words and in time), the link from the .eml in the pickup folder, single use, 429 per client address, and sessions.
/// </summary>
public sealed partial class PasswordResetPageTests : IClassFixture<PortalApiFactory>, IDisposable
{
    private const string Password = "Passw0rd!";
    private readonly string _pickup = Path.Combine(Path.GetTempPath(), $"portal-mail-{Guid.NewGuid():N}");
    private readonly PortalApiFactory _base;
    private readonly WebApplicationFactory<Program> _app;

    public PasswordResetPageTests(PortalApiFactory factory)
    {
        _base = factory;
        _app = factory.WithWebHostBuilder(b =>
        {
            b.UseSetting("Portal:Email:PickupDirectory", _pickup);
            b.UseSetting("Portal:Email:PollSeconds", "1");
            b.UseSetting("Portal:PasswordReset:PermitLimit", "1000");
        });
    }

    public void Dispose()
    {
        _app.Dispose();
        if (Directory.Exists(_pickup)) Directory.Delete(_pickup, recursive: true);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private static HttpClient NewBrowser(WebApplicationFactory<Program> app) => app.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
    });

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string page, string handler, Dictionary<string, string> fields, string? action = null)
    {
        var form = await browser.GetStringAsync(page);
        fields["__RequestVerificationToken"] = AntiforgeryToken().Match(form).Groups[1].Value;
        if (handler.Length > 0) fields["_handler"] = handler;
        return await browser.PostAsync(action ?? page, new FormUrlEncodedContent(fields));
    }

    private static Task<HttpResponseMessage> ForgotAsync(HttpClient browser, string email) =>
        PostFormAsync(browser, "/account/forgot-password", "forgot-password", new() { ["Input.Email"] = email });

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password) =>
        await PostFormAsync(browser, "/account/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    private async Task<UserDto> NewUserAsync() => (await _base.Get<UserService>().CreateAsync(Actor.System, new CreateUser
    {
        Email = $"reset-{Guid.NewGuid():N}@portal.test",
        DisplayName = "Reset <Tester>",
        Password = Password,
        Roles = [Roles.Developer],
    })).Value;

    private async Task<MimeMessage> WaitForMailAsync(string to)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (Directory.Exists(_pickup))
                foreach (var file in Directory.GetFiles(_pickup, "*.eml"))
                {
                    var message = await MimeMessage.LoadAsync(file);
                    if (message.To.Mailboxes.Any(m => m.Address == to)) return message;
                }
            await Task.Delay(100);
        }
        throw new TimeoutException($"No email to {to} in {_pickup}");
    }

    private static string ResetPath(MimeMessage message)
    {
        var link = Regex.Match(message.TextBody ?? "", @"https?://\S+/account/reset-password\?\S+").Value;
        return new Uri(link).PathAndQuery;
    }

    [Fact]
    public async Task Forgot_KnownAndUnknownAddresses_GetTheSamePage()
    {
        var user = await NewUserAsync();
        var known = await (await ForgotAsync(NewBrowser(_app), user.Email)).Content.ReadAsStringAsync();
        var unknown = await (await ForgotAsync(NewBrowser(_app), $"nobody-{Guid.NewGuid():N}@portal.test")).Content.ReadAsStringAsync();
        static string Notice(string html) => Regex.Match(html, "<div class=\"account-notice\"[^>]*>(.*?)</div>", RegexOptions.Singleline).Groups[1].Value.Trim();
        Assert.NotEqual("", Notice(known));
        Assert.Equal(Notice(known), Notice(unknown));
    }

    [Fact]
    public async Task Forgot_KnownAndUnknownAddresses_TakeTheSameTime()
    {
        var user = await NewUserAsync();
        var browser = NewBrowser(_app);
        await ForgotAsync(browser, "warm-up@portal.test");
        List<double> known = [], unknown = [];
        for (var i = 0; i < 15; i++)
        {
            known.Add(await TimeAsync(user.Email));
            unknown.Add(await TimeAsync($"nobody-{i}@portal.test"));
        }
        var (k, u) = (Median(known), Median(unknown));
        // Generous: the request is only queued, so both sides do the same work; a shared machine adds noise.
        Assert.True(Math.Abs(k - u) < 25 + 0.5 * Math.Max(k, u), $"median known {k:0.0} ms, unknown {u:0.0} ms");

        async Task<double> TimeAsync(string email)
        {
            var form = await browser.GetStringAsync("/account/forgot-password");
            var content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = AntiforgeryToken().Match(form).Groups[1].Value,
                ["_handler"] = "forgot-password",
                ["Input.Email"] = email,
            });
            var watch = Stopwatch.StartNew();
            var response = await browser.PostAsync("/account/forgot-password", content);
            watch.Stop();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return watch.Elapsed.TotalMilliseconds;
        }

        static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
    }

    [Fact]
    public async Task Forgot_TooManyPostsFromOneAddress_Answers429()
    {
        using var limited = _base.WithWebHostBuilder(b =>
        {
            b.UseSetting("Portal:Email:PickupDirectory", _pickup);
            b.UseSetting("Portal:PasswordReset:PermitLimit", "2");
        });
        var browser = NewBrowser(limited);
        Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(browser, "a@portal.test")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ForgotAsync(browser, "b@portal.test")).StatusCode);
        var refused = await ForgotAsync(browser, "c@portal.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Too many password reset requests", await refused.Content.ReadAsStringAsync());
        // Reading the form is never limited.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/forgot-password")).StatusCode);
    }

    [Fact]
    public async Task Reset_LinkFromTheEmail_SetsThePassword_EndsSessions_AndWorksOnce()
    {
        var user = await NewUserAsync();
        var signedIn = NewBrowser(_app);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(signedIn, user.Email, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/account/profile")).StatusCode);

        await ForgotAsync(NewBrowser(_app), user.Email);
        var mail = await WaitForMailAsync(user.Email);
        Assert.Contains("Reset &lt;Tester&gt;", mail.HtmlBody);
        var path = ResetPath(mail);

        var browser = NewBrowser(_app);
        var reset = await PostFormAsync(browser, path, "reset-password", new()
        {
            ["Input.Password"] = "Br4nd-new-pass!",
            ["Input.ConfirmPassword"] = "Br4nd-new-pass!",
            ["Input.UserId"] = user.Id.ToString(),
            ["Input.Token"] = Uri.UnescapeDataString(Regex.Match(path, "token=([^&]+)").Groups[1].Value),
        });
        Assert.Contains("Your password is changed", await reset.Content.ReadAsStringAsync());

        // The session from before the reset is over; the new password signs in, the old one does not.
        Assert.Equal(HttpStatusCode.Redirect, (await signedIn.GetAsync("/account/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(NewBrowser(_app), user.Email, "Br4nd-new-pass!")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SignInAsync(NewBrowser(_app), user.Email, Password)).StatusCode);
        // Single use.
        Assert.Contains("invalid, already used or expired", await NewBrowser(_app).GetStringAsync(path));
    }

    [Fact]
    public async Task ChangePassword_OnTheProfile_KeepsThisBrowser_EndsTheOthers()
    {
        var user = await NewUserAsync();
        var here = NewBrowser(_app);
        var elsewhere = NewBrowser(_app);
        await SignInAsync(here, user.Email, Password);
        await SignInAsync(elsewhere, user.Email, Password);

        var wrong = await PostFormAsync(here, "/account/change-password", "change-password", new()
        {
            ["Input.CurrentPassword"] = "not-it",
            ["Input.NewPassword"] = "Ch4nged-pass!",
            ["Input.ConfirmPassword"] = "Ch4nged-pass!",
        });
        Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        Assert.Contains("The current password is not correct.", await wrong.Content.ReadAsStringAsync());

        var changed = await PostFormAsync(here, "/account/change-password", "change-password", new()
        {
            ["Input.CurrentPassword"] = Password,
            ["Input.NewPassword"] = "Ch4nged-pass!",
            ["Input.ConfirmPassword"] = "Ch4nged-pass!",
        });
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        Assert.Contains("passwordChange=changed", changed.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/account/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await elsewhere.GetAsync("/account/profile")).StatusCode);
    }

    [Fact]
    public async Task SignOutOtherSessions_KeepsThisBrowser_EndsTheOthers()
    {
        var user = await NewUserAsync();
        var here = NewBrowser(_app);
        var elsewhere = NewBrowser(_app);
        await SignInAsync(here, user.Email, Password);
        await SignInAsync(elsewhere, user.Email, Password);

        var ended = await PostFormAsync(here, "/account/profile", "", [], "/account/profile/sessions");
        Assert.Contains("sessions=ended", ended.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/account/profile")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await elsewhere.GetAsync("/account/profile")).StatusCode);
    }

    [Fact]
    public async Task SignOutOtherSessions_WhenThisRequestAlsoChecksTheCookie_KeepsThisBrowser()
    {
        var user = await NewUserAsync();
        var here = NewBrowser(_app);
        await SignInAsync(here, user.Email, Password);

        // A change seen for this user makes the next request check its cookie against the stored stamp, which loads the
        // user into Identity's context before the stamp changes: the re-issued cookie must carry the new stamp.
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Portal.Core.Features.Users.SignInChanges>(_app.Services).Notify(user.Id);
        var ended = await PostFormAsync(here, "/account/profile", "", [], "/account/profile/sessions");
        Assert.Contains("sessions=ended", ended.Headers.Location!.OriginalString);
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Portal.Core.Features.Users.SignInChanges>(_app.Services).Notify(user.Id);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/account/profile")).StatusCode);
    }

    [Fact]
    public async Task ChangePassword_WhenThisRequestAlsoChecksTheCookie_KeepsThisBrowser()
    {
        var user = await NewUserAsync();
        var here = NewBrowser(_app);
        await SignInAsync(here, user.Email, Password);

        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Portal.Core.Features.Users.SignInChanges>(_app.Services).Notify(user.Id);
        var changed = await PostFormAsync(here, "/account/change-password", "change-password", new()
        {
            ["Input.CurrentPassword"] = Password,
            ["Input.NewPassword"] = "Ch4nged-pass!",
            ["Input.ConfirmPassword"] = "Ch4nged-pass!",
        });
        Assert.Contains("passwordChange=changed", changed.Headers.Location!.OriginalString);
        Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Portal.Core.Features.Users.SignInChanges>(_app.Services).Notify(user.Id);
        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/account/profile")).StatusCode);
    }

    [Fact]
    public async Task LoginPage_LinksToForgotPassword()
    {
        var html = await NewBrowser(_app).GetStringAsync("/account/login");
        Assert.Contains("href=\"/account/forgot-password\"", html);
    }
}
