using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;
using Portal.Core.Features.Notifications;

namespace Portal.Core.Features.Profile;

/// <summary>The signed-in user's own profile (<c>GET /api/v1/me/profile</c>).</summary>
public sealed record ProfileDto(Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt, DateTimeOffset? LastLoginAt,
    NotificationChoices Notifications);

/// <summary>Partial update (<c>PATCH /api/v1/me/profile</c>): a null field is left as it is.</summary>
public sealed class UpdateProfile
{
    [StringLength(200, MinimumLength = 1, ErrorMessage = "Display name must be 1 to 200 characters.")]
    [RegularExpression(@".*\S.*", ErrorMessage = "Display name must be 1 to 200 characters.")]
    public string? DisplayName { get; set; }

    /// <summary>Which notification emails to get; a null field is left as it is.</summary>
    public UpdateNotificationChoices? Notifications { get; set; }
}

public sealed class ChangePassword
{
    [Required(ErrorMessage = "Enter your current password.")]
    [StringLength(128)]
    public string CurrentPassword { get; set; } = "";

    [Required(ErrorMessage = "Enter a new password.")]
    [StringLength(128)]
    public string NewPassword { get; set; } = "";

    [Compare(nameof(NewPassword), ErrorMessage = "The passwords do not match.")]
    public string ConfirmPassword { get; set; } = "";
}

/// <summary>One successful sign-in, from the audit trail.</summary>
public sealed record RecentSignIn(DateTimeOffset At, string? IpAddress, string? Browser);

public sealed class ForgotPassword
{
    [Required(ErrorMessage = "Email is required.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    public string Email { get; set; } = "";
}

public sealed class ResetPasswordWithLink
{
    public Guid UserId { get; set; }

    public string Token { get; set; } = "";

    [Required(ErrorMessage = "Enter a new password.")]
    [StringLength(128)]
    public string Password { get; set; } = "";

    [Compare(nameof(Password), ErrorMessage = "The passwords do not match.")]
    public string ConfirmPassword { get; set; } = "";
}

public sealed record WrongCurrentPassword() : Error("Validation failed", "The current password is not correct.");

public sealed record InvalidResetLink() : Error("Invalid link", "This reset link is invalid, already used or expired. Ask for a new one.");

public sealed class ResendConfirmation
{
    [Required(ErrorMessage = "Email is required.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    public string Email { get; set; } = "";
}

public sealed record InvalidConfirmationLink() : Error("Invalid link", "This confirmation link is invalid or expired. Sign in to ask for a new one.");

public sealed record EmailAlreadyConfirmed() : ConflictError("This email address is already confirmed. Sign in.");
