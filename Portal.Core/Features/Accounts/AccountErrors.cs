using Portal.Core.Common;

namespace Portal.Core.Features.Accounts;

public sealed record LastAccountOfDeveloper() : ConflictError("This is the user's only account: every developer belongs to at least one.");

/// <summary>Deliberately vague: sign-up must not tell a stranger whether an email is registered.</summary>
public sealed record SignUpRefused() : ConflictError("Could not sign up with these details.");

public sealed record SignUpDisabled() : ForbiddenError("Self-service sign-up is turned off. Ask an administrator for an account.");
