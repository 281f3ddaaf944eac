using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Gateway;

namespace Portal.Core.Domain;

/// <summary>An API offered to developers. Developers see it in the catalog once published and subscribe applications to one of its plans.</summary>
public sealed class ApiProduct
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string Name { get; set; } = "";
    /// <summary>Unique, URL-safe (<c>payments-v2</c>): the catalog address <c>/products/{slug}</c> and what a gateway may verify against.</summary>
    public string Slug { get; set; } = "";
    /// <summary>A one-line tagline shown on the catalog card.</summary>
    public string? Title { get; set; }
    public string? Description { get; set; }
    public string? UpstreamUrl { get; set; }
    /// <summary>How long the gateway waits for the upstream (idle time between reads, the answer's headers included) before a 504.</summary>
    public int UpstreamTimeoutSeconds { get; set; } = GatewayRules.DefaultTimeoutSeconds;
    /// <summary>The largest request body the gateway passes on; a larger one is answered 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = GatewayRules.DefaultMaxRequestBodyBytes;
    /// <summary>The header the gateway adds for the upstream (e.g. <c>Authorization</c>), with <see cref="UpstreamCredentialProtected"/> as its value.</summary>
    public string? UpstreamCredentialHeader { get; set; }
    /// <summary>The upstream credential's value, encrypted by <see cref="IUpstreamCredentialProtector"/>; never shown.</summary>
    public string? UpstreamCredentialProtected { get; set; }
    public bool Published { get; set; }
    /// <summary>When set (the default) a subscription waits for an admin; otherwise it is approved at once.</summary>
    public bool RequiresApproval { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<Plan> Plans { get; set; } = [];
}

public enum PlanType
{
    Free,
    Subscription,
    Metered,
    Tiered,
}

public enum RateLimitWindow
{
    Second,
    Minute,
}

public enum QuotaPeriod
{
    Day,
    Month,
}

/// <summary>Where a quota period begins and ends: UTC days and calendar months, the same for counters, alerts and the request log.</summary>
public static class QuotaPeriods
{
    /// <summary>The start of the period that holds <paramref name="now"/>.</summary>
    public static DateTimeOffset StartOf(this QuotaPeriod period, DateTimeOffset now)
    {
        var utc = now.UtcDateTime;
        return period == QuotaPeriod.Day
            ? new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>The end of the period that starts at <paramref name="start"/>.</summary>
    public static DateTimeOffset EndOf(this QuotaPeriod period, DateTimeOffset start) =>
        period == QuotaPeriod.Day ? start.AddDays(1) : start.AddMonths(1);
}

/// <summary>How a product may be used: a rate limit per second or minute, a quota per day or month, and a price to show.</summary>
public sealed class Plan
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProductId { get; set; }
    public string Name { get; set; } = "";
    public PlanType Type { get; set; }
    /// <summary>Requests per <see cref="RateLimitWindow"/>; null: no rate limit.</summary>
    public int? RateLimit { get; set; }
    public RateLimitWindow RateLimitWindow { get; set; } = RateLimitWindow.Second;
    /// <summary>Requests per <see cref="QuotaPeriod"/>; null: unlimited.</summary>
    public long? Quota { get; set; }
    public QuotaPeriod QuotaPeriod { get; set; } = QuotaPeriod.Month;
    /// <summary>An optional note shown beside the price (<c>billed yearly on request</c>); the price itself comes from the numbers below.</summary>
    public string? PriceText { get; set; }
    /// <summary>ISO 4217 code of every amount of this plan (<see cref="Currencies"/>).</summary>
    public string Currency { get; set; } = Currencies.Default;
    /// <summary><see cref="PlanType.Subscription"/>: the fee per calendar month.</summary>
    public decimal? FlatFee { get; set; }
    /// <summary><see cref="PlanType.Metered"/>: the price of <see cref="PriceUnit"/> calls.</summary>
    public decimal? UnitPrice { get; set; }
    /// <summary>How many calls <see cref="UnitPrice"/> and the tiers' unit prices are for: 1 or 1,000.</summary>
    public int PriceUnit { get; set; } = 1;
    /// <summary><see cref="PlanType.Metered"/>: the least a month costs once the subscription is billed at all.</summary>
    public decimal? MonthlyMinimum { get; set; }
    /// <summary><see cref="PlanType.Tiered"/>: each band at its own rate, or every call at the rate of the band the total lands in.</summary>
    public TierMode TierMode { get; set; } = TierMode.Graduated;
    /// <summary>For <see cref="PlanType.Tiered"/>: bands in ascending order, the last one open (<c>UpTo</c> null).</summary>
    public List<PlanTier> Tiers { get; set; } = [];
    /// <summary>Position among the product's plans, left to right.</summary>
    public int Order { get; set; }
}

/// <summary>
/// One band of a tiered plan: calls up to <see cref="UpTo"/> (null: everything above the previous band) cost
/// <see cref="UnitPrice"/> per <see cref="Plan.PriceUnit"/> calls, plus <see cref="FlatFee"/> once when the band is reached.
/// </summary>
public sealed class PlanTier
{
    public long? UpTo { get; set; }
    /// <summary>Null in bands written before prices were numbers: priced at nothing until an admin sets it.</summary>
    public decimal? UnitPrice { get; set; }
    public decimal? FlatFee { get; set; }
    /// <summary>An optional note shown with the band (the price text bands carried before prices were numbers).</summary>
    public string? Price { get; set; }
}

/// <summary>How a tiered plan prices a month's calls (Stripe's two modes).</summary>
public enum TierMode
{
    /// <summary>Each band's calls at that band's rate.</summary>
    Graduated,
    /// <summary>Every call at the rate of the band the month's total lands in.</summary>
    Volume,
}

internal sealed class ApiProductConfiguration : IEntityTypeConfiguration<ApiProduct>
{
    public void Configure(EntityTypeBuilder<ApiProduct> product)
    {
        product.ToTable("Products");
        product.Property(p => p.Id).ValueGeneratedNever();
        product.Property(p => p.Name).HasMaxLength(200).IsRequired();
        product.Property(p => p.Slug).HasMaxLength(100).IsRequired();
        product.Property(p => p.Title).HasMaxLength(300);
        product.Property(p => p.Description).HasMaxLength(4000);
        product.Property(p => p.UpstreamUrl).HasMaxLength(2000);
        product.Property(p => p.UpstreamTimeoutSeconds).HasDefaultValue(GatewayRules.DefaultTimeoutSeconds);
        product.Property(p => p.MaxRequestBodyBytes).HasDefaultValue(GatewayRules.DefaultMaxRequestBodyBytes);
        product.Property(p => p.UpstreamCredentialHeader).HasMaxLength(GatewayRules.MaxCredentialHeaderLength);
        product.Property(p => p.UpstreamCredentialProtected).HasMaxLength(8000);
        product.HasIndex(p => p.Slug).IsUnique();
        product.HasIndex(p => p.Name);
        product.HasMany(p => p.Plans).WithOne().HasForeignKey(p => p.ProductId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class PlanConfiguration : IEntityTypeConfiguration<Plan>
{
    public void Configure(EntityTypeBuilder<Plan> plan)
    {
        plan.ToTable("Plans");
        plan.Property(p => p.Id).ValueGeneratedNever();
        plan.Property(p => p.Name).HasMaxLength(100).IsRequired();
        plan.Property(p => p.Type).HasConversion<string>().HasMaxLength(16);
        plan.Property(p => p.RateLimitWindow).HasConversion<string>().HasMaxLength(16);
        plan.Property(p => p.QuotaPeriod).HasConversion<string>().HasMaxLength(16);
        plan.Property(p => p.PriceText).HasMaxLength(100);
        plan.Property(p => p.Currency).HasMaxLength(3).HasDefaultValue(Currencies.Default);
        plan.Property(p => p.FlatFee).HasPrecision(18, 6);
        plan.Property(p => p.UnitPrice).HasPrecision(18, 6);
        plan.Property(p => p.MonthlyMinimum).HasPrecision(18, 6);
        plan.Property(p => p.PriceUnit).HasDefaultValue(1);
        plan.Property(p => p.TierMode).HasConversion<string>().HasMaxLength(16).HasDefaultValue(TierMode.Graduated);
        plan.HasIndex(p => new { p.ProductId, p.Name }).IsUnique();
        // A handful of bands per plan, always read with it: one JSON column.
        plan.OwnsMany(p => p.Tiers, tiers => tiers.ToJson());
    }
}
