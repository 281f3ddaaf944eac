using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Notifications;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.SignUp;

/// <param name="ConfirmationRequired">The account waits for its email to be confirmed: not signed in, its keys not working yet.</param>
public sealed record SignedUp(UserDto User, ApplicationCreated FirstApplication, bool ConfirmationRequired = false)
{
    public override string ToString() => $"SignedUp {{ User = {User.Email}, Application = {FirstApplication.Application.Id} }}";
}

/// <summary>
/// Self-service developer sign-up (seed 001, Scenario A): a developer user with a personal account, and a first
/// application with its first key, ready to use. A taken email answers <see cref="SignUpRefused"/>, a generic
/// conflict that does not say the email exists (the page shows the same text for any refusal). Posts per email are
/// limited here (<c>Portal:SignUp:PerEmailLimit</c> per window, counted for every email alike, so the refusal says
/// nothing about the email); posts per client address by the page's rate limit.
/// </summary>
public sealed class SignUpService(UserService users, ApplicationService applications, Notifier notifier,
    Profile.EmailConfirmationService confirmations, AttemptCounter attempts, IOptions<PortalOptions> options)
{
    public const string FirstApplicationName = "My first application";

    /// <param name="linkBase">Where the confirmation link points when <c>Portal:SignUp:RequireConfirmedEmail</c> is on (the page's own address).</param>
    public async Task<Result<SignedUp>> SignUpAsync(string email, string displayName, string password, string? ipAddress = null, CancellationToken ct = default,
        string? linkBase = null)
    {
        var settings = options.Value.SignUp;
        if (!settings.Enabled) return new SignUpDisabled();
        if (await attempts.AddAsync("signup-email", email.Trim().ToUpperInvariant(), TimeSpan.FromMinutes(Math.Max(1, settings.WindowMinutes)))
            > Math.Max(1, settings.PerEmailLimit))
            return new SignUpTooOften();
        // The system creates the user on the newcomer's behalf; the audit entry names the email that signed up.
        var registrar = Actor.System with { Email = Truncate(email.Trim(), 256), IpAddress = ipAddress };
        var confirm = options.Value.SignUp.RequireConfirmedEmail;
        var created = await users.CreateAsync(registrar,
            new CreateUser { Email = email, DisplayName = displayName, Password = password, Roles = [Roles.Developer] }, emailConfirmed: !confirm, ct);
        if (created.Error is DuplicateEmail) return new SignUpRefused();
        if (!created.IsSuccess) return created.Error!;
        var user = created.Value;

        // A second save: should it fail, the developer still has a working account and can create the application later.
        var newcomer = new Actor(user.Id, user.Email, user.Roles, IpAddress: ipAddress);
        var app = await applications.CreateAsync(newcomer,
            new CreateApplication { Name = FirstApplicationName, Description = "Created when you signed up." }, ct);
        if (!app.IsSuccess) return app.Error!;
        await notifier.WelcomeAsync(user.Id, user.DisplayName, ct);
        if (confirm) await confirmations.SendAsync(user.Id, linkBase ?? options.Value.Email.BaseUrl ?? "http://localhost:5000", ipAddress, ct);
        return new SignedUp(user, app.Value, confirm);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
