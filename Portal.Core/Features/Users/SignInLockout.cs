using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Portal.Core.Features.Users;

/// <summary>
/// Failed sign-ins are counted per account and client address: <c>Portal:SignIn:MaxFailedAttempts</c> failures lock that
/// address out of that account for <c>Portal:SignIn:LockoutMinutes</c> after the last one, and nobody else. Identity's
/// own lockout (per account, from anywhere) let anyone who knew an email lock its owner out, a super-admin included;
/// here an outsider locks out only their own address, and guessing from many addresses is held back by the per-address
/// limit on sign-in posts. Unknown emails are counted the same way, so a lock tells nothing about which accounts exist.
/// </summary>
public sealed class SignInLockout(AttemptCounter attempts, IOptions<PortalOptions> options, ILookupNormalizer normalizer)
{
    private const string Kind = "signin-failed";

    private SignInOptions Settings => options.Value.SignIn;

    public ValueTask<bool> IsLockedAsync(string email, string? address) => IsLockedCoreAsync(Subject(email, address));

    private async ValueTask<bool> IsLockedCoreAsync(string subject) =>
        await attempts.PeekAsync(Kind, subject) >= Math.Max(1, Settings.MaxFailedAttempts);

    /// <summary>Counts a failure; true when it locks the address out of the account.</summary>
    public async ValueTask<bool> FailedAsync(string email, string? address) =>
        await attempts.AddAsync(Kind, Subject(email, address), TimeSpan.FromMinutes(Math.Max(1, Settings.LockoutMinutes)))
        >= Math.Max(1, Settings.MaxFailedAttempts);

    /// <summary>A successful sign-in forgets the failures from that address.</summary>
    public ValueTask SucceededAsync(string email, string? address) => attempts.ResetAsync(Kind, Subject(email, address));

    private string Subject(string email, string? address) =>
        $"{normalizer.NormalizeEmail(email.Trim())}\n{address ?? "unknown"}";
}
