using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;

namespace Portal.Core.Features.Profile;

/// <param name="Required">The user's roles require it (<c>Portal:Security:RequireTwoFactorForAdmins</c>): it cannot be turned off.</param>
public sealed record TwoFactorStatus(bool Enabled, int RecoveryCodesLeft, bool Required);

/// <summary>What an authenticator app needs: the shared key (in groups of four for typing) and the <c>otpauth://</c> address for the QR code.</summary>
public sealed record AuthenticatorSetup(string SharedKey, string FormattedKey, string AuthenticatorUri);

/// <summary>Recovery codes, shown once: each signs in once in place of an authenticator code.</summary>
public sealed record RecoveryCodes(IReadOnlyList<string> Codes);

public sealed class EnableTwoFactor
{
    [Required(ErrorMessage = "Enter the 6-digit code from your authenticator app.")]
    [StringLength(16, ErrorMessage = "Enter the 6-digit code from your authenticator app.")]
    public string Code { get; set; } = "";
}

public sealed class DisableTwoFactor
{
    [Required(ErrorMessage = "Enter your password.")]
    [StringLength(128)]
    public string Password { get; set; } = "";
}

public sealed record TwoFactorRequiredForYourRoles() : ForbiddenError(
    "Two-factor sign-in is required for super-admins and admins here: it cannot be turned off.");

public sealed record TwoFactorNotEnabled() : ConflictError("Two-factor sign-in is not on for this account.");

public sealed record TwoFactorAlreadyEnabled() : ConflictError("Two-factor sign-in is already on for this account.");

public sealed record SuperAdminResetsTwoFactor() : ForbiddenError("Only a super-admin can reset another user's two-factor sign-in.");
