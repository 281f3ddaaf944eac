using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Core.Features.Usage;

internal sealed class UsageEventConfiguration : IEntityTypeConfiguration<UsageEvent>
{
    /// <summary>Longer user agents are cut: enough to tell a browser, a library and its version apart.</summary>
    public const int MaxUserAgentLength = 256;

    /// <summary>An IPv6 address in its longest text form.</summary>
    public const int MaxClientAddressLength = 45;

    public void Configure(EntityTypeBuilder<UsageEvent> usage)
    {
        usage.ToTable("UsageEvents");
        usage.Property(e => e.Method).HasMaxLength(16);
        usage.Property(e => e.Route).HasMaxLength(256);
        usage.Property(e => e.Outcome).HasMaxLength(32);
        usage.Property(e => e.Source).HasConversion<string>().HasMaxLength(16).HasDefaultValue(UsageSource.Api).HasSentinel((UsageSource)(-1));
        usage.Property(e => e.Path).HasMaxLength(Gateway.GatewayRules.MaxLoggedPathLength);
        usage.Property(e => e.ClientAddress).HasMaxLength(MaxClientAddressLength);
        usage.Property(e => e.UserAgent).HasMaxLength(MaxUserAgentLength);
        // The request log reads every filter newest first by (At, Id) (RequestLog): each index is led by what it
        // filters and ends in (At, Id), so a page is one range scan on both engines (SQLite would append the rowid
        // by itself, PostgreSQL would not).
        usage.HasIndex(e => new { e.At, e.Id });
        usage.HasIndex(e => new { e.KeyId, e.At, e.Id });
        usage.HasIndex(e => new { e.Status, e.At, e.Id });
        usage.HasIndex(e => new { e.Source, e.At, e.Id });
        // Route templates: a skip scan of this index lists the few distinct routes a search matches among.
        usage.HasIndex(e => new { e.Route, e.At, e.Id });
        // Partial indexes: only the rows that have the column pay for them, ordinary calls (no product, most with no
        // application) add nothing to the writer's inserts. The request log's filters by application, product and a
        // developer's personal keys. Nothing else reads raw events by column: figures come from the rollups, so
        // every index here is paid by the writer for a list that uses it.
        usage.HasIndex(e => new { e.OwnerUserId, e.At, e.Id }).HasFilter("\"OwnerUserId\" IS NOT NULL");
        usage.HasIndex(e => new { e.ApplicationId, e.At, e.Id }).HasFilter("\"ApplicationId\" IS NOT NULL");
        usage.HasIndex(e => new { e.ProductId, e.At, e.Id }).HasFilter("\"ProductId\" IS NOT NULL");
    }
}

internal sealed class UsageRollupConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> rollup)
    {
        rollup.ToTable("UsageRollups");
        // No foreign key to the key: history and environment metrics survive a deleted key.
        rollup.HasKey(r => new { r.KeyId, r.HourStart });
        // Top keys of an hourly window: each hour's biggest keys read from the index's end (UsageTop).
        rollup.HasIndex(r => new { r.HourStart, r.Count }, "IX_UsageRollups_HourStart_Count");
    }
}

// The rollups below have no foreign keys either: history outlives keys, applications and products. Each is keyed by
// what its figures group by (the id first, so a developer's few ids are read through it) and, where a top list reads
// it, indexed by (bucket, count) so that a bucket's biggest rows are read without sorting the bucket.
internal sealed class UsageHourConfiguration : IEntityTypeConfiguration<UsageHour>
{
    public void Configure(EntityTypeBuilder<UsageHour> hour)
    {
        hour.ToTable("UsageHours");
        hour.HasKey(h => h.HourStart);
    }
}

internal sealed class UsageOutcomeHourConfiguration : IEntityTypeConfiguration<UsageOutcomeHour>
{
    public void Configure(EntityTypeBuilder<UsageOutcomeHour> outcome)
    {
        outcome.ToTable("UsageOutcomeHours");
        outcome.HasKey(o => new { o.HourStart, o.Outcome });
        outcome.Property(o => o.Outcome).HasMaxLength(32);
    }
}

internal sealed class UsageKeyDayConfiguration : IEntityTypeConfiguration<UsageKeyDay>
{
    public void Configure(EntityTypeBuilder<UsageKeyDay> day)
    {
        day.ToTable("UsageKeyDays");
        day.HasKey(d => new { d.KeyId, d.Day });
        day.HasIndex(d => new { d.Day, d.Calls });
    }
}

internal sealed class UsageApplicationRollupConfiguration : IEntityTypeConfiguration<UsageApplicationRollup>
{
    public void Configure(EntityTypeBuilder<UsageApplicationRollup> rollup)
    {
        rollup.ToTable("UsageApplicationRollups");
        rollup.HasKey(r => new { r.ApplicationId, r.Span, r.Start });
        rollup.HasIndex(r => new { r.Span, r.Start, r.Calls });
    }
}

internal sealed class UsageProductRollupConfiguration : IEntityTypeConfiguration<UsageProductRollup>
{
    public void Configure(EntityTypeBuilder<UsageProductRollup> rollup)
    {
        rollup.ToTable("UsageProductRollups");
        rollup.HasKey(r => new { r.ProductId, r.Span, r.Start });
        rollup.HasIndex(r => new { r.Span, r.Start, r.Calls });
    }
}

internal sealed class UsageVerificationHourConfiguration : IEntityTypeConfiguration<UsageVerificationHour>
{
    public void Configure(EntityTypeBuilder<UsageVerificationHour> verification)
    {
        verification.ToTable("UsageVerificationHours");
        verification.HasKey(v => new { v.KeyId, v.HourStart, v.ProductId, v.Outcome });
        verification.Property(v => v.Outcome).HasMaxLength(32);
    }
}

internal sealed class UsageRefusalMinuteConfiguration : IEntityTypeConfiguration<UsageRefusalMinute>
{
    public void Configure(EntityTypeBuilder<UsageRefusalMinute> refusal)
    {
        refusal.ToTable("UsageRefusalMinutes");
        refusal.HasKey(r => new { r.MinuteStart, r.CallerKeyId, r.Source, r.Outcome });
        refusal.Property(r => r.Source).HasMaxLength(16);
        refusal.Property(r => r.Outcome).HasMaxLength(32);
    }
}
