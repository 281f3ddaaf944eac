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
        usage.HasIndex(e => e.At);
        usage.HasIndex(e => new { e.KeyId, e.At });
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
