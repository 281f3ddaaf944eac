namespace Portal.Core.Features.Audit;

public sealed record WebhookEventType(string Name, string Group, string Description);

/// <summary>
/// The event catalogue. Every event but <see cref="Test"/> is the webhook face of an audited change: the audit entry
/// a service writes names the change, and <see cref="ForAuditAction"/> says which event (if any) it is.
/// </summary>
public static class WebhookEventTypes
{
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<WebhookEventType> All =
    [
        new("user.created", "Users", "A user was created."),
        new("user.updated", "Users", "A user's display name, roles or status changed."),
        new("user.deleted", "Users", "A user was deleted."),
        new("api_key.created", "API keys", "An API key was issued, personal or an application's (never its secret)."),
        new("api_key.revoked", "API keys", "An API key, personal or an application's, was revoked."),
        new("api_key.regenerated", "API keys", "An API key got a new secret (never the secret)."),
        new("api_key.deleted", "API keys", "An API key was deleted."),
        new("api_key.expiring", "API keys", "An API key, personal or an application's, expires within 7 days (once per key)."),
        new("api_key.expired", "API keys", "An API key, personal or an application's, passed its expiry (once per key)."),
        new("application.created", "Applications", "An application was created."),
        new("application.updated", "Applications", "An application's name or description changed."),
        new("application.deleted", "Applications", "An application was removed."),
        new("subscription.created", "Subscriptions", "An application registered to a product."),
        new("subscription.approved", "Subscriptions", "A registration was approved."),
        new("subscription.rejected", "Subscriptions", "A registration was rejected."),
        new("subscription.unsubscribed", "Subscriptions", "A registration was ended."),
        new("quota.threshold_reached", "Billing", "A subscription used 80% or 100% of its quota (once per period and threshold)."),
        new("billing.threshold_reached", "Billing", "A subscription's cost this month passed its account's spending threshold (once per month)."),
        new("product.created", "Products", "An API product was created."),
        new("product.updated", "Products", "An API product or its plans changed."),
        new("product.deleted", "Products", "An API product was deleted."),
        new(Test, "Webhooks", "A test event sent from the portal on request."),
    ];

    private static readonly HashSet<string> Names = [.. All.Select(t => t.Name)];

    private static readonly Dictionary<string, string> ByAuditAction = new(StringComparer.Ordinal)
    {
        [AuditActions.UserCreated] = "user.created",
        [AuditActions.UserUpdated] = "user.updated",
        [AuditActions.UserDeleted] = "user.deleted",
        [AuditActions.ApiKeyCreated] = "api_key.created",
        [AuditActions.ApiKeyRevoked] = "api_key.revoked",
        [AuditActions.ApplicationKeyCreated] = "api_key.created",
        [AuditActions.ApplicationKeyRevoked] = "api_key.revoked",
        [AuditActions.ApiKeyRegenerated] = "api_key.regenerated",
        [AuditActions.ApiKeyDeleted] = "api_key.deleted",
        [AuditActions.ApiKeyExpiring] = "api_key.expiring",
        [AuditActions.ApiKeyExpired] = "api_key.expired",
        [AuditActions.ApplicationCreated] = "application.created",
        [AuditActions.ApplicationUpdated] = "application.updated",
        [AuditActions.ApplicationDeleted] = "application.deleted",
        [AuditActions.SubscriptionCreated] = "subscription.created",
        [AuditActions.SubscriptionApproved] = "subscription.approved",
        [AuditActions.SubscriptionRejected] = "subscription.rejected",
        [AuditActions.SubscriptionUnsubscribed] = "subscription.unsubscribed",
        [AuditActions.QuotaThresholdReached] = "quota.threshold_reached",
        [AuditActions.SpendingThresholdReached] = "billing.threshold_reached",
        [AuditActions.ProductCreated] = "product.created",
        [AuditActions.ProductUpdated] = "product.updated",
        [AuditActions.ProductDeleted] = "product.deleted",
    };

    public static bool IsKnown(string name) => Names.Contains(name);

    /// <summary>The audit actions that raise the event <paramref name="name"/> (none for an unknown name or webhook.test).</summary>
    public static IReadOnlyList<string> AuditActionsOf(string name) =>
        [.. ByAuditAction.Where(pair => pair.Value == name).Select(pair => pair.Key)];

    /// <summary>The event an audited change raises, or null (sign-ins, password resets, webhook changes raise none).</summary>
    public static string? ForAuditAction(string action) => ByAuditAction.GetValueOrDefault(action);
}
