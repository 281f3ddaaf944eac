using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;

namespace Portal.Core.Features.Users;

public sealed record UserDto(
    Guid Id,
    string Email,
    string DisplayName,
    IReadOnlyList<string> Roles,
    UserStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastLoginAt,
    bool LockedOut,
    bool TwoFactorEnabled = false,
    bool EmailConfirmed = true);

/// <summary>
/// The caller. A personal key or a signed-in user has a <paramref name="UserId"/>; an application key has none, and
/// says instead which <paramref name="ApplicationId"/> it acts for (<paramref name="DisplayName"/> is the application's name).
/// </summary>
public sealed record MeDto(
    Guid? UserId, string? Email, string DisplayName, IReadOnlyList<string> Roles, Guid? KeyId, IReadOnlyList<string>? Scopes,
    IReadOnlyList<string> Permissions, Guid? ApplicationId = null)
{
    /// <summary>The user the key belongs to, as one object; null for an application key. The flat fields stay: scripts read them.</summary>
    public MeUser? User => UserId is { } id ? new MeUser(id, Email ?? "", DisplayName) : null;
}

public sealed record MeUser(Guid Id, string Email, string DisplayName);

public sealed record UserQuery : PageQuery
{
    [StringLength(32)]
    public string? Role { get; init; }

    public UserStatus? Status { get; init; }
}

/// <summary>Form and API body for creating a user. Mutable so a form can bind to it.</summary>
public sealed class CreateUser
{
    [Required(ErrorMessage = "Email is required.")]
    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    public string Email { get; set; } = "";

    [Required(ErrorMessage = "Display name is required.")]
    [StringLength(200)]
    public string DisplayName { get; set; } = "";

    [Required(ErrorMessage = "Password is required.")]
    [StringLength(128)]
    [AnyText]
    public string Password { get; set; } = "";

    [Required(ErrorMessage = "Choose at least one role.")]
    [MinLength(1, ErrorMessage = "Choose at least one role.")]
    public List<string> Roles { get; set; } = [];
}

/// <summary>Partial update: a null field is left as it is.</summary>
public sealed class UpdateUser
{
    [StringLength(200, MinimumLength = 1, ErrorMessage = "Display name must be 1 to 200 characters.")]
    public string? DisplayName { get; set; }

    [MinLength(1, ErrorMessage = "Choose at least one role.")]
    public List<string>? Roles { get; set; }

    public UserStatus? Status { get; set; }
}

public sealed class ResetPassword
{
    [Required(ErrorMessage = "Password is required.")]
    [StringLength(128)]
    [AnyText]
    public string Password { get; set; } = "";
}

public enum SignInOutcome
{
    Succeeded,
    Failed,
    LockedOut,
    SignedOut,
}
