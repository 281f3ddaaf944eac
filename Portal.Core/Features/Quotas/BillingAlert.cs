using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Subscriptions;

namespace Portal.Core.Features.Quotas;

/// <summary>The alerts raised about a subscription, each at most once per period.</summary>
public enum BillingAlertKind
{
    /// <summary>80% of the quota used in the quota period.</summary>
    Quota80,
    /// <summary>The whole quota used in the quota period.</summary>
    Quota100,
    /// <summary>The cost this month passed the account's spending threshold (the period is the month).</summary>
    Spending,
}

/// <summary>
/// "This alert about this subscription has been raised for this period": inserted in the same save as the emails and
/// the audit entry (and so the webhook event), under the unique key (SubscriptionId, PeriodStart, Kind), so of several
/// instances, concurrent calls or a restarted instance exactly one raises each alert.
/// </summary>
public sealed class BillingAlert
{
    public Guid SubscriptionId { get; set; }
    /// <summary>The quota period's first instant (a UTC day or month); for <see cref="BillingAlertKind.Spending"/> the month's.</summary>
    public DateTimeOffset PeriodStart { get; set; }
    public BillingAlertKind Kind { get; set; }
    public DateTimeOffset RaisedAt { get; set; }
}

internal sealed class BillingAlertConfiguration : IEntityTypeConfiguration<BillingAlert>
{
    public void Configure(EntityTypeBuilder<BillingAlert> alert)
    {
        alert.ToTable("BillingAlerts");
        // The unique key that makes an alert once-only across instances, concurrent calls and restarts.
        alert.HasKey(a => new { a.SubscriptionId, a.PeriodStart, a.Kind });
        alert.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
        alert.HasOne<Subscription>().WithMany().HasForeignKey(a => a.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// The details of an alert's audit entry (<c>threshold: 80; used: 800; limit: 1000; …</c>), and their reading back as
/// the webhook event's data fields (docs/webhooks.md lists them).
/// </summary>
public static class AlertDetails
{
    public static string Quota(int percent, long used, long limit, DateTimeOffset periodStart, DateTimeOffset resetAt, Guid accountId, Guid? applicationId, Guid productId) =>
        $"threshold: {percent}; used: {used}; limit: {limit}; periodStart: {Iso(periodStart)}; resetAt: {Iso(resetAt)}; "
        + $"accountId: {accountId}; applicationId: {applicationId}; productId: {productId}";

    public static string Spending(decimal amount, decimal threshold, string currency, DateTimeOffset month, long calls, Guid accountId, Guid? applicationId, Guid productId) =>
        $"amount: {Amount(amount)}; threshold: {Amount(threshold)}; currency: {currency}; "
        + $"month: {month.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture)}; calls: {calls}; "
        + $"accountId: {accountId}; applicationId: {applicationId}; productId: {productId}";

    /// <summary>Without trailing zeros, never with a thousands separator (<see cref="Amounts.Plain"/>).</summary>
    public static string Amount(decimal amount) => Amounts.Plain(amount);

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Every <c>name: value</c> pair with a value (an application removed since has none).</summary>
    public static IEnumerable<(string Name, string Value)> Parse(string? details)
    {
        foreach (var part in (details ?? "").Split("; ", StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = part.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0 || colon + 2 >= part.Length) continue;
            yield return (part[..colon], part[(colon + 2)..]);
        }
    }
}
