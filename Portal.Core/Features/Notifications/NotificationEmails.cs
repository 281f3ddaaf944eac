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

    public static EmailTemplate QuotaThreshold(string application, string product, int percent, long used, long limit, DateTimeOffset resetAt, string account, string? link) =>
        new(percent >= 100 ? $"Quota used up: {application} → {product}" : $"{percent}% of the quota used: {application} → {product}",
            percent >= 100 ? "A quota is used up" : $"{percent}% of a quota is used",
            [
                $"{application} has used {used.ToString("N0", CultureInfo.InvariantCulture)} of its {limit.ToString("N0", CultureInfo.InvariantCulture)} calls to {product} this period.",
                percent >= 100
                    ? $"Further calls are refused (QUOTA_EXCEEDED) until the quota resets on {When(resetAt)}."
                    : $"The quota resets on {When(resetAt)}; once it is used up, calls are refused until then.",
            ],
            link is null ? null : "Open the application", link,
            [$"You get this email as a member of the account {account}.", Unsubscribe]);

    public static EmailTemplate SpendingThreshold(string application, string product, decimal amount, decimal threshold, string currency, string account, string? link) =>
        new($"Spending threshold passed: {application} → {product}", "A spending threshold is passed",
            [
                $"The cost of {application} on {product} this month is {Money(amount, currency)}, past the account's threshold of {Money(threshold, currency)}.",
                "Calls go on and are billed as before; this is a notice, not a limit.",
            ],
            link is null ? null : "Open the application", link,
            [$"You get this email as a member of the account {account}.", Unsubscribe]);

    private static string Money(decimal amount, string currency) => $"{amount.ToString("N2", CultureInfo.InvariantCulture)} {currency}";

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
