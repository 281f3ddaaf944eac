using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Accounts;

namespace Portal.Core.Domain;

/// <summary>Seed 001's registration states, written in capitals in the API as the seed shows them.</summary>
public enum SubscriptionStatus
{
    [JsonStringEnumMemberName("WAITING")] Waiting,
    [JsonStringEnumMemberName("APPROVED")] Approved,
    [JsonStringEnumMemberName("REJECTED")] Rejected,
    [JsonStringEnumMemberName("UNSUBSCRIBED")] Unsubscribed,
}

/// <summary>
/// An application's registration to a product on one plan. WAITING → APPROVED | REJECTED; WAITING or APPROVED →
/// UNSUBSCRIBED. An application holds at most one WAITING or APPROVED registration per product; after REJECTED or
/// UNSUBSCRIBED it may apply again with a new one (the old row stays as history). Removing the application ends its
/// open registrations and keeps them all: <see cref="ApplicationId"/> becomes null, the account and the name stay.
/// </summary>
public sealed class Subscription
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>Null once the application was removed (the registration stays, ended, as history).</summary>
    public Guid? ApplicationId { get; set; }
    /// <summary>
    /// The application's name, kept for when it is gone: set on subscribing and again when the application is removed.
    /// While the application exists its own name is shown (it may have been renamed since).
    /// </summary>
    public string ApplicationName { get; set; } = "";
    /// <summary>The application's account (an application never moves): whose registration it is, also after the application is gone.</summary>
    public Guid AccountId { get; set; }
    public Guid ProductId { get; set; }
    public Guid PlanId { get; set; }
    public SubscriptionStatus Status { get; set; }
    /// <summary>Why it was rejected, shown to the developer.</summary>
    public string? Reason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public Guid? CreatedBy { get; set; }
    /// <summary>When it was approved or rejected.</summary>
    public DateTimeOffset? DecidedAt { get; set; }
    public Guid? DecidedBy { get; set; }
    /// <summary>When it was unsubscribed (by the developer, an admin, or by removing the application).</summary>
    public DateTimeOffset? EndedAt { get; set; }
    public Guid? EndedBy { get; set; }

    /// <summary>WAITING or APPROVED: what the one-per-product rule counts.</summary>
    public bool IsOpen => Status is SubscriptionStatus.Waiting or SubscriptionStatus.Approved;
}

internal sealed class SubscriptionConfiguration : IEntityTypeConfiguration<Subscription>
{
    public void Configure(EntityTypeBuilder<Subscription> subscription)
    {
        subscription.ToTable("Subscriptions");
        subscription.Property(s => s.Id).ValueGeneratedNever();
        subscription.Property(s => s.Status).HasConversion<string>().HasMaxLength(16);
        subscription.Property(s => s.Reason).HasMaxLength(1000);
        subscription.Property(s => s.ApplicationName).HasMaxLength(255).IsRequired();
        subscription.Ignore(s => s.IsOpen);
        // One open registration per application and product, enforced by the database too (two racing requests). A removed
        // application's rows are ended and their null ids are distinct, so they never count.
        subscription.HasIndex(s => new { s.ApplicationId, s.ProductId }).IsUnique()
            .HasFilter("\"Status\" IN ('Waiting', 'Approved')").HasDatabaseName("IX_Subscriptions_Open");
        subscription.HasIndex(s => new { s.ApplicationId, s.CreatedAt });
        subscription.HasIndex(s => new { s.ProductId, s.Status });
        subscription.HasIndex(s => new { s.Status, s.CreatedAt });
        subscription.HasIndex(s => new { s.AccountId, s.CreatedAt });
        // "All", newest first: page 1 of 200,000 registrations read in this index's order.
        subscription.HasIndex(s => new { s.CreatedAt, s.Id });
        // Removing an application ends its registrations first (ApplicationService.DeleteAsync); the rows stay as history.
        subscription.HasOne<Application>().WithMany().HasForeignKey(s => s.ApplicationId).OnDelete(DeleteBehavior.SetNull);
        subscription.HasOne<Account>().WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Restrict);
        subscription.HasOne<ApiProduct>().WithMany().HasForeignKey(s => s.ProductId).OnDelete(DeleteBehavior.Restrict);
        subscription.HasOne<Plan>().WithMany().HasForeignKey(s => s.PlanId).OnDelete(DeleteBehavior.Restrict);
    }
}
