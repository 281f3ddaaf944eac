using System.Globalization;
using Portal.Core.Features.Email;

namespace Portal.Core.Features.Notifications;

/// <summary>The words of each notification email; <see cref="EmailTemplate"/> renders them as text and HTML.</summary>
public static class NotificationEmails
{
    private const string Unsubscribe = "You can turn these emails off on your profile, under Notifications.";

    public static EmailTemplate SubscriptionApproved(string application, string product, string plan, string account, string? link) =>
        new($"Registration approved: {application} → {product}", "Your registration is approved",
            [
                $"{application} is now registered to {product} on the {plan} plan. Its keys work with {product} from now on.",
            ],
            link is null ? null : "Open the application", link,
            [$"You get this email as a member of the account {account}.", Unsubscribe]);

    public static EmailTemplate SubscriptionRejected(string application, string product, string plan, string account, string? reason, string? link) =>
        new($"Registration rejected: {application} → {product}", "Your registration was rejected",
            [
                $"The registration of {application} to {product} ({plan} plan) was rejected.",
                reason is null ? "No reason was given." : $"Reason: {reason}",
            ],
            link is null ? null : "Open the application", link,
            [$"You get this email as a member of the account {account}.", Unsubscribe]);

    public static EmailTemplate KeyExpiring(string keyName, DateTimeOffset expiresAt, string whose, string? link) =>
        new($"Your API key {keyName} expires on {Day(expiresAt)}", "An API key expires soon",
            [
                $"The key {keyName} expires on {When(expiresAt)}. Calls with it are refused from then on.",
                "Generate a new key and move your clients to it before then.",
            ],
            link is null ? null : "Manage keys", link,
            [whose, Unsubscribe]);

    public static EmailTemplate KeyExpired(string keyName, DateTimeOffset expiresAt, string whose, string? link) =>
        new($"Your API key {keyName} has expired", "An API key has expired",
            [
                $"The key {keyName} expired on {When(expiresAt)}. Calls with it are refused.",
                "Generate a new key to keep calling.",
            ],
            link is null ? null : "Manage keys", link,
            [whose, Unsubscribe]);

    public static EmailTemplate Welcome(string organisation, string displayName, string? link) =>
        new($"Welcome to {organisation}", $"Welcome, {displayName}",
            [
                "Your developer account is ready, with a first application and its key.",
                "Browse the API products, register your application to one, and call it with the key.",
            ],
            link is null ? null : "Open My Applications", link);

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
