using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Domain;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Notifications;

/// <summary>The emails a user may turn off on their profile. Stored by name: scripts and the API use these names.</summary>
public enum NotificationKind
{
    SubscriptionApproved,
    SubscriptionRejected,
    ApiKeyExpiring,
    ApiKeyExpired,
    Welcome,
    /// <summary>A subscription of one of the user's accounts used 80% or all of its quota.</summary>
    QuotaThreshold,
    /// <summary>A subscription's cost this month passed the account's spending threshold.</summary>
    SpendingThreshold,
}

/// <summary>
/// One user's choice about one kind of email. A user without a row for a kind gets it: rows exist only for choices
/// made on the profile, so a new kind is on for everyone without a backfill.
/// </summary>
public sealed class NotificationPreference
{
    public Guid UserId { get; set; }
    public NotificationKind Kind { get; set; }
    public bool Enabled { get; set; }
}

/// <summary>The notice kinds sent about a key, each at most once per key.</summary>
public enum KeyNoticeKind
{
    Expiring,
    Expired,
}

/// <summary>
/// "This notice about this key has been sent": inserted in the same save as the emails and the audit entry (and so the
/// webhook event), under a unique key, so of several instances or a restarted one exactly one sends each notice.
/// </summary>
public sealed class ApiKeyNotice
{
    public Guid KeyId { get; set; }
    public KeyNoticeKind Kind { get; set; }
    public DateTimeOffset SentAt { get; set; }
    /// <summary>The expiry the notice announced.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}

internal sealed class NotificationPreferenceConfiguration : IEntityTypeConfiguration<NotificationPreference>
{
    public void Configure(EntityTypeBuilder<NotificationPreference> preference)
    {
        preference.ToTable("NotificationPreferences");
        preference.HasKey(p => new { p.UserId, p.Kind });
        preference.Property(p => p.Kind).HasConversion<string>().HasMaxLength(32);
        preference.HasOne<PortalUser>().WithMany().HasForeignKey(p => p.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ApiKeyNoticeConfiguration : IEntityTypeConfiguration<ApiKeyNotice>
{
    public void Configure(EntityTypeBuilder<ApiKeyNotice> notice)
    {
        notice.ToTable("ApiKeyNotices");
        // The unique key that makes a notice once-only across instances and restarts.
        notice.HasKey(n => new { n.KeyId, n.Kind });
        notice.Property(n => n.Kind).HasConversion<string>().HasMaxLength(16);
        notice.HasOne<ApiKey>().WithMany().HasForeignKey(n => n.KeyId).OnDelete(DeleteBehavior.Cascade);
    }
}
