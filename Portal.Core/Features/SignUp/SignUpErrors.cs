using Portal.Core.Common;

namespace Portal.Core.Features.SignUp;

/// <summary>Deliberately vague: sign-up must not tell a stranger whether an email is registered.</summary>
public sealed record SignUpRefused() : ConflictError("Could not sign up with these details.");

public sealed record SignUpDisabled() : ForbiddenError("Self-service sign-up is turned off. Ask an administrator for an account.");

/// <summary>More sign-up posts for one email than <c>Portal:SignUp:PerEmailLimit</c> allows in the window; said for any email alike.</summary>
public sealed record SignUpTooOften() : ConflictError("Too many sign-up attempts with this email. Wait a few minutes and try again.");
