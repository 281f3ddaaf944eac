using Portal.Core.Common;

namespace Portal.Core.Features.Accounts;

public sealed record LastAccountOfDeveloper() : ConflictError("This is the user's only account: every developer belongs to at least one.");
