using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>
/// An unknown email costs a sign-in what a known one with a wrong password costs (both verify one password hash), so
/// the time of the answer does not tell which accounts exist. Hashing at production strength, where it dominates.
/// </summary>
public sealed partial class SignInTimingTests : IDisposable
{
    private const string Password = "Passw0rd!";
    private readonly PortalApiFactory _app = new(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
        services => services.Configure<PasswordHasherOptions>(o => o.IterationCount = 100_000));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task UnknownEmail_TakesAtLeastHalfAsLongAsAKnownOneWithAWrongPassword()
    {
        // Several known accounts, each tried fewer than five times, so none locks during the test.
        var known = new List<string>();
        for (var i = 0; i < 6; i++)
            known.Add((await _app.Get<UserService>().CreateAsync(Actor.System, new CreateUser
            {
                Email = $"timing-{i}-{Guid.NewGuid():N}@portal.test", DisplayName = "Timing", Password = Password, Roles = [Roles.Developer],
            })).Value.Email);
        await TimeSignInAsync(known[0], "warm-up");
        await TimeSignInAsync("warm-up@portal.test", "warm-up");

        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var round = 0; round < 3; round++)
            foreach (var email in known)
            {
                knownTimes.Add(await TimeSignInAsync(email, "wrong-password"));
                unknownTimes.Add(await TimeSignInAsync($"nobody-{Guid.NewGuid():N}@portal.test", "wrong-password"));
            }

        var knownMedian = Median(knownTimes);
        var unknownMedian = Median(unknownTimes);
        Assert.True(unknownMedian >= 0.5 * knownMedian,
            $"Median sign-in: unknown email {unknownMedian:F1} ms, known email {knownMedian:F1} ms: the difference tells which accounts exist.");
    }

    /// <summary>The form post alone (its antiforgery token fetched before the clock starts), in milliseconds.</summary>
    private async Task<double> TimeSignInAsync(string email, string password)
    {
        var client = _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var token = AntiforgeryToken().Match(await client.GetStringAsync("/account/login")).Groups[1].Value;
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["_handler"] = "login", ["Input.Email"] = email, ["Input.Password"] = password,
        });
        var started = Stopwatch.GetTimestamp();
        var response = await client.PostAsync("/account/login", form);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Assert.Contains("Invalid email or password.", await response.Content.ReadAsStringAsync());
        return elapsed;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
