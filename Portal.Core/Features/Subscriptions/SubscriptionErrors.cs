using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Subscriptions;

public sealed record AlreadySubscribed(string Application, string Product, SubscriptionStatus Status)
    : ConflictError($"'{Application}' already has a {Status.Label()} registration to '{Product}'. An application registers to a product once at a time: unregister it first to change the plan.");

public sealed record SubscriptionNotWaiting(SubscriptionStatus Status)
    : ConflictError($"This registration is {Status.Label()}: only a WAITING one can be approved or rejected.");

public sealed record SubscriptionAlreadyEnded(SubscriptionStatus Status)
    : ConflictError($"This registration is already {Status.Label()}: only a WAITING or APPROVED one can be unregistered.");

public static class SubscriptionStatusText
{
    /// <summary>The seed's capitals, as the API writes them: WAITING, APPROVED, REJECTED, UNSUBSCRIBED.</summary>
    public static string Label(this SubscriptionStatus status) => status.ToString().ToUpperInvariant();

    /// <summary>Accepts the API's capitals and the enum's names alike (<c>WAITING</c>, <c>waiting</c>, <c>Waiting</c>); no numbers.</summary>
    public static bool TryParse(string? text, out SubscriptionStatus status)
    {
        foreach (var value in Enum.GetValues<SubscriptionStatus>())
            if (string.Equals(value.ToString(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                status = value;
                return true;
            }
        status = default;
        return false;
    }
}
