using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Portal.Core.Data;
using Portal.Core.Features.Email;
using Portal.Core.Features.Profile;
using Portal.Core.Features.SignUp;
using Portal.Tests.Support;
using Portal.Web.Features.Account;

namespace Portal.Tests.Web.Pages;

/// <summary>
/// "Resend the confirmation email" over real HTTP: anyone can post any address, so the answer must be the same in
/// words, status and time whether the address belongs to an account waiting for its link, to a confirmed one or to
/// nobody; the link itself arrives in the pickup folder from the background.
/// </summary>
public sealed partial class ConfirmationResendPageTests : IDisposable
{
    private const string Password = "Passw0rd!";

    // Saving a message into the outbox is made slow (a busy database or disk stands in for it): an answer that waits
    // for the lookup and the send shows it, far above a shared machine's noise.
    private static readonly TimeSpan SlowOutboxWrite = TimeSpan.FromMilliseconds(200);

    private readonly string _pickup = Path.Combine(Path.GetTempPath(), $"portal-mail-{Guid.NewGuid():N}");
    private readonly PortalApiFactory _app;

    public ConfirmationResendPageTests() =>
        _app = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
            services => services.ConfigureDbContext<PortalDbContext>((_, db) => db.AddInterceptors(new SlowOutbox()), ServiceLifetime.Singleton),
            new Dictionary<string, string?>
            {
                ["Portal:SignUp:RequireConfirmedEmail"] = "true",
                // Every sample of the timing test would send: the per-address limit must not hide the difference.
                ["Portal:SignUp:ConfirmationsPerHour"] = "10000",
                ["Portal:PasswordReset:PermitLimit"] = "10000",
                ["Portal:Email:PickupDirectory"] = _pickup,
                ["Portal:Email:PollSeconds"] = "1",
            });

    public void Dispose()
    {
        _app.Dispose();
        if (Directory.Exists(_pickup)) Directory.Delete(_pickup, recursive: true);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    private HttpClient NewBrowser() =>
        _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private async Task<string> SignUpAsync(string prefix)
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@portal.test";
        var signedUp = await _app.Get<SignUpService>().SignUpAsync(email, "Waiting Dev", Password, linkBase: "http://localhost");
        Assert.True(signedUp.Value.ConfirmationRequired);
        return email;
    }

    /// <summary>The resend form's post alone (its antiforgery token fetched before), with the answer and its time.</summary>
    private static async Task<(HttpResponseMessage Response, double Milliseconds)> ResendAsync(HttpClient browser, string email)
    {
        var token = AntiforgeryToken().Match(await browser.GetStringAsync("/account/login")).Groups[1].Value;
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["email"] = email });
        var started = Stopwatch.GetTimestamp();
        var response = await browser.PostAsync(AccountEndpoints.ResendConfirmationPath, form);
        return (response, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private async Task<int> ConfirmationsQueuedToAsync(string email)
    {
        await using var db = await _app.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.EmailOutbox.CountAsync(m => m.To == email && m.Subject == EmailConfirmationService.Subject);
    }

    [Fact]
    public async Task Resend_UnconfirmedConfirmedAndUnknownAddresses_GetTheSameAnswer_OnlyTheUnconfirmedGetsAMail()
    {
        var waiting = await SignUpAsync("waiting");
        var browser = NewBrowser();
        var answers = new List<(HttpStatusCode, string?, string)>();
        foreach (var email in new[] { $"nobody-{Guid.NewGuid():N}@portal.test", TestDatabase.AdminEmail, waiting })
        {
            var (response, _) = await ResendAsync(browser, email);
            answers.Add((response.StatusCode, response.Headers.Location?.OriginalString, await response.Content.ReadAsStringAsync()));
        }
        Assert.All(answers, a => Assert.Equal((HttpStatusCode.Redirect, "/account/login?confirmation=sent", ""), a));

        // The queue is read in order: when the resent link is in the pickup folder, the other two addresses were seen.
        var mails = await WaitForMailsAsync(waiting, 2); // the sign-up's own and the resend
        Assert.All(mails, m => Assert.Contains("/account/confirm-email?user=", m.TextBody));
        Assert.Equal(2, await ConfirmationsQueuedToAsync(waiting)); // the sign-up's own and the resend
        Assert.Equal(0, await ConfirmationsQueuedToAsync(TestDatabase.AdminEmail));
    }

    [Fact]
    public async Task Resend_UnconfirmedAndUnknownAddresses_TakeTheSameTime()
    {
        var waiting = await SignUpAsync("timing");
        var browser = NewBrowser();
        await ResendAsync(browser, "warm-up@portal.test");
        List<double> known = [], unknown = [];
        for (var i = 0; i < 15; i++)
        {
            known.Add(await TimeAsync(waiting));
            unknown.Add(await TimeAsync($"nobody-{i}@portal.test"));
        }
        var (k, u) = (Median(known), Median(unknown));
        // The tolerance of the forgot-password test; an answer waiting for the send is SlowOutboxWrite slower, beyond it.
        Assert.True(Math.Abs(k - u) < 25 + 0.5 * Math.Max(k, u), $"median unconfirmed {k:0.0} ms, unknown {u:0.0} ms");
        // The sends happened all the same, after the answers.
        var watch = Stopwatch.StartNew();
        while (await ConfirmationsQueuedToAsync(waiting) < 1 + 15 && watch.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100);
        Assert.Equal(1 + 15, await ConfirmationsQueuedToAsync(waiting));

        async Task<double> TimeAsync(string email)
        {
            var (response, ms) = await ResendAsync(browser, email);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            return ms;
        }

        static double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
    }

    [Fact]
    public async Task TheLinkFromTheEmail_Confirms_ThenSignInWorks_AndTheLinkWorksOnce()
    {
        var email = await SignUpAsync("follow");
        var browser = NewBrowser();
        Assert.Contains("Confirm your email address first", await (await SignInAsync(browser, email)).Content.ReadAsStringAsync());

        var mail = (await WaitForMailsAsync(email, 1)).Single();
        var link = Regex.Match(mail.TextBody ?? "", @"https?://\S+/account/confirm-email\?\S+").Value;
        var path = new Uri(link).PathAndQuery;
        Assert.Contains("Your email address is confirmed", await browser.GetStringAsync(path));

        var signedIn = await SignInAsync(browser, email);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/account/profile")).StatusCode);
        Assert.Contains("already confirmed", await NewBrowser().GetStringAsync(path));
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email)
    {
        var token = AntiforgeryToken().Match(await browser.GetStringAsync("/account/login")).Groups[1].Value;
        return await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["_handler"] = "login", ["Input.Email"] = email, ["Input.Password"] = Password,
        }));
    }

    [Fact]
    public async Task Resend_TooManyPostsFromOneAddress_Answers429WithAPage()
    {
        using var limited = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(), settings: new Dictionary<string, string?>
        {
            ["Portal:SignUp:RequireConfirmedEmail"] = "true",
            ["Portal:PasswordReset:PermitLimit"] = "2",
            ["Portal:Email:PickupDirectory"] = _pickup,
        });
        var browser = limited.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        Assert.Equal(HttpStatusCode.Redirect, (await ResendAsync(browser, "a@portal.test")).Response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await ResendAsync(browser, "b@portal.test")).Response.StatusCode);
        var (refused, _) = await ResendAsync(browser, "c@portal.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.Contains("Retry-After"));
        Assert.Contains("Too many confirmation emails", await refused.Content.ReadAsStringAsync());
    }

    private async Task<List<MimeMessage>> WaitForMailsAsync(string to, int count)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var found = new List<MimeMessage>();
            if (Directory.Exists(_pickup))
                foreach (var file in Directory.GetFiles(_pickup, "*.eml"))
                {
                    var message = await MimeMessage.LoadAsync(file);
                    if (message.To.Mailboxes.Any(m => m.Address == to) && message.Subject == EmailConfirmationService.Subject) found.Add(message);
                }
            if (found.Count >= count) return found;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Fewer than {count} confirmation emails to {to} in {_pickup}");
    }

    private sealed class SlowOutbox : SaveChangesInterceptor
    {
        public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result,
            CancellationToken ct = default)
        {
            if (eventData.Context?.ChangeTracker.Entries<EmailOutboxMessage>().Any(e => e.State == EntityState.Added) == true)
                await Task.Delay(SlowOutboxWrite, ct);
            return result;
        }
    }
}
