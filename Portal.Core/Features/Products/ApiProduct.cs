using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Core.Features.Products;

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
    public int UpstreamTimeoutSeconds { get; set; } = Gateway.GatewayRules.DefaultTimeoutSeconds;
    /// <summary>The largest request body the gateway passes on; a larger one is answered 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = Gateway.GatewayRules.DefaultMaxRequestBodyBytes;
    /// <summary>The header the gateway adds for the upstream (e.g. <c>Authorization</c>), with <see cref="UpstreamCredentialProtected"/> as its value.</summary>
    public string? UpstreamCredentialHeader { get; set; }
    /// <summary>The upstream credential's value, encrypted by <see cref="Gateway.IUpstreamCredentialProtector"/>; never shown.</summary>
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
    /// <summary>For display only (<c>$49 / month</c>); the portal does not bill.</summary>
    public string? PriceText { get; set; }
    /// <summary>For <see cref="PlanType.Tiered"/>: volume bands with their price text, in ascending order.</summary>
    public List<PlanTier> Tiers { get; set; } = [];
    /// <summary>Position among the product's plans, left to right.</summary>
    public int Order { get; set; }
}

/// <summary>One band of a tiered plan: calls up to <see cref="UpTo"/> (null: everything above the previous band) cost <see cref="Price"/>.</summary>
public sealed class PlanTier
{
    public long? UpTo { get; set; }
    public string Price { get; set; } = "";
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
        product.Property(p => p.UpstreamTimeoutSeconds).HasDefaultValue(Gateway.GatewayRules.DefaultTimeoutSeconds);
        product.Property(p => p.MaxRequestBodyBytes).HasDefaultValue(Gateway.GatewayRules.DefaultMaxRequestBodyBytes);
        product.Property(p => p.UpstreamCredentialHeader).HasMaxLength(Gateway.GatewayRules.MaxCredentialHeaderLength);
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
        plan.HasIndex(p => new { p.ProductId, p.Name }).IsUnique();
        // A handful of bands per plan, always read with it: one JSON column.
        plan.OwnsMany(p => p.Tiers, tiers => tiers.ToJson());
    }
}
