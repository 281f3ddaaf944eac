using Portal.Core.Common;

namespace Portal.Core.Features.ApiKeys;

public sealed record DuplicateKeyName(string Name) : ConflictError($"The owner already has a key named '{Name}'.");

public sealed record KeyNotActive(ApiKeyStatus Status) : ConflictError($"The key is {Status.ToString().ToLowerInvariant()}: it can no longer be regenerated.");
