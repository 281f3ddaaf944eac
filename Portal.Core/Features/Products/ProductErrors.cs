using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Products;

public sealed record DuplicateProductSlug(string Slug)
    : ConflictError($"Another product already uses the slug '{Slug}'. Choose a different slug (it is the product's address).");

public sealed record ProductHasOpenSubscriptions(string Name, int Count)
    : ConflictError($"'{Name}' has {Count} waiting or approved subscription(s). Reject or unregister them before deleting the product.");

public sealed record PlanHasOpenSubscriptions(string Plan, int Count)
    : ConflictError($"The plan '{Plan}' has {Count} waiting or approved subscription(s). Reject or unregister them before removing the plan.");
