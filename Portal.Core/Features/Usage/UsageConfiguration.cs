using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Core.Features.Usage;

internal sealed class UsageEventConfiguration : IEntityTypeConfiguration<UsageEvent>
{
    public void Configure(EntityTypeBuilder<UsageEvent> usage)
    {
        usage.ToTable("UsageEvents");
        usage.Property(e => e.Method).HasMaxLength(16);
        usage.Property(e => e.Route).HasMaxLength(256);
        usage.Property(e => e.Outcome).HasMaxLength(32);
        usage.Property(e => e.Source).HasConversion<string>().HasMaxLength(16).HasDefaultValue(UsageSource.Api).HasSentinel((UsageSource)(-1));
        usage.Property(e => e.Path).HasMaxLength(Gateway.GatewayRules.MaxLoggedPathLength);
        usage.HasIndex(e => e.At);
        usage.HasIndex(e => new { e.KeyId, e.At });
        // Partial indexes: only the rows that have the column pay for them, ordinary calls (no product, most with no
        // application) add nothing to the writer's inserts. The request log's filters by application and product, and
        // the summary's verification counts per code and product (covering: answered from the index alone).
        usage.HasIndex(e => new { e.ApplicationId, e.At }).HasFilter("\"ApplicationId\" IS NOT NULL");
        usage.HasIndex(e => new { e.ProductId, e.At }).HasFilter("\"ProductId\" IS NOT NULL");
        usage.HasIndex(e => new { e.At, e.Outcome, e.ProductId }, "IX_UsageEvents_Verifications").HasFilter("\"Outcome\" IS NOT NULL");
    }
}

internal sealed class UsageRollupConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> rollup)
    {
        rollup.ToTable("UsageRollups");
        // No foreign key to the key: history and environment metrics survive a deleted key.
        rollup.HasKey(r => new { r.KeyId, r.HourStart });
        rollup.HasIndex(r => r.HourStart);
    }
}
