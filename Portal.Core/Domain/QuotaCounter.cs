using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Core.Domain;

/// <summary>Calls a subscription has used in one quota period (a UTC day or month), so quotas survive a restart.</summary>
public sealed class QuotaCounter
{
    public Guid SubscriptionId { get; set; }
    public DateTimeOffset PeriodStart { get; set; }
    public long Used { get; set; }
}

internal sealed class QuotaCounterConfiguration : IEntityTypeConfiguration<QuotaCounter>
{
    public void Configure(EntityTypeBuilder<QuotaCounter> counter)
    {
        counter.ToTable("QuotaCounters");
        counter.HasKey(c => new { c.SubscriptionId, c.PeriodStart });
        // A billing month over every subscription reads this range alone (Used included: no table reads).
        counter.HasIndex(c => new { c.PeriodStart, c.SubscriptionId, c.Used }).HasDatabaseName("IX_QuotaCounters_Billing");
        counter.HasOne<Subscription>().WithMany().HasForeignKey(c => c.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
    }
}
