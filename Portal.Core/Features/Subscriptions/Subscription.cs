using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;

namespace Portal.Core.Features.Subscriptions;

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
/// UNSUBSCRIBED it may apply again with a new one (the old row stays as history).
/// </summary>
public sealed class Subscription
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ApplicationId { get; set; }
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
        subscription.Ignore(s => s.IsOpen);
        // One open registration per application and product, enforced by the database too (two racing requests).
        subscription.HasIndex(s => new { s.ApplicationId, s.ProductId }).IsUnique()
            .HasFilter("\"Status\" IN ('Waiting', 'Approved')").HasDatabaseName("IX_Subscriptions_Open");
        subscription.HasIndex(s => new { s.ApplicationId, s.CreatedAt });
        subscription.HasIndex(s => new { s.ProductId, s.Status });
        subscription.HasIndex(s => new { s.Status, s.CreatedAt });
        subscription.HasOne<Application>().WithMany().HasForeignKey(s => s.ApplicationId).OnDelete(DeleteBehavior.Cascade);
        subscription.HasOne<ApiProduct>().WithMany().HasForeignKey(s => s.ProductId).OnDelete(DeleteBehavior.Restrict);
        subscription.HasOne<Plan>().WithMany().HasForeignKey(s => s.PlanId).OnDelete(DeleteBehavior.Restrict);
    }
}
