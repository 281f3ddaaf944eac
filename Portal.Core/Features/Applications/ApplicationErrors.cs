using Portal.Core.Common;

namespace Portal.Core.Features.Applications;

public sealed record DuplicateApplicationName(string Name) : ConflictError($"This account already has an application named '{Name}'.");

public sealed record ApplicationLimitReached(int Max)
    : ConflictError($"This account already has {Max} applications, the most allowed. Remove one before creating another.");

public sealed record ActiveKeyLimitReached(int Max)
    : ConflictError($"This application already has {Max} active keys, the most allowed. Revoke one before generating another.");
