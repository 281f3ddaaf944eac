using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Products;

/// <summary>
/// One band of a tiered plan. <see cref="Price"/> is the band's note (the name older clients know it by; empty for
/// none), also written as <see cref="Note"/>; <see cref="UnitPrice"/> is per the plan's <see cref="PlanDto.PriceUnit"/> calls.
/// </summary>
public sealed record PlanTierDto(long? UpTo, string Price, decimal? UnitPrice = null, decimal? FlatFee = null)
{
    public string? Note => Price.Length == 0 ? null : Price;
}

/// <summary>
/// A plan as the API and the pages see it. The price comes from the numbers (<see cref="Currency"/>, <see cref="FlatFee"/>,
/// <see cref="UnitPrice"/> per <see cref="PriceUnit"/> calls, <see cref="MonthlyMinimum"/>, the tiers in <see cref="TierMode"/>);
/// <see cref="PriceText"/> is a note beside it. A paid plan without its numbers (made before prices were numbers) shows the note alone.
/// </summary>
public sealed record PlanDto(
    Guid Id,
    string Name,
    PlanType Type,
    int? RateLimit,
    RateLimitWindow RateLimitWindow,
    long? Quota,
    QuotaPeriod QuotaPeriod,
    string? PriceText,
    IReadOnlyList<PlanTierDto> Tiers,
    string Currency = Billing.Currencies.Default,
    decimal? FlatFee = null,
    decimal? UnitPrice = null,
    int PriceUnit = 1,
    decimal? MonthlyMinimum = null,
    TierMode TierMode = TierMode.Graduated)
{
    /// <summary>False for a paid plan whose numbers were never set: it charges nothing and shows its note.</summary>
    public bool Priced => Type switch
    {
        PlanType.Free => true,
        PlanType.Subscription => FlatFee is not null,
        PlanType.Metered => UnitPrice is not null,
        _ => Tiers.Count > 0 && Tiers.Any(t => t.UnitPrice is not null || t.FlatFee is not null),
    };
}

public sealed record ProductDto(
    Guid Id,
    string Name,
    string Slug,
    string? Title,
    string? Description,
    string? UpstreamUrl,
    bool Published,
    bool RequiresApproval,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<PlanDto> Plans,
    /// <summary>WAITING and APPROVED subscriptions (admins see the number; for developers it is 0).</summary>
    int OpenSubscriptions,
    int UpstreamTimeoutSeconds = Gateway.GatewayRules.DefaultTimeoutSeconds,
    long MaxRequestBodyBytes = Gateway.GatewayRules.DefaultMaxRequestBodyBytes,
    /// <summary>The upstream credential's header name and whether a value is set; never the value. Null for those who may not see the upstream.</summary>
    UpstreamCredentialDto? UpstreamCredential = null)
{
    /// <summary>PRODUCT.md's "visibility": <c>public</c> (published, in the catalog) or <c>draft</c>.</summary>
    public string Visibility => ProductVisibility.Of(Published);
}

/// <summary>
/// "Visibility" as words, another way to say <c>published</c> in an API body: <c>public</c>/<c>published</c> or
/// <c>private</c>/<c>draft</c>. Any other word is a validation error, never silently a draft.
/// </summary>
public static class ProductVisibility
{
    public const string Public = "public", Draft = "draft";

    internal const string Pattern = "^(?i:public|published|private|draft)$";

    internal const string Message = "Visibility is 'public' or 'draft' ('published' and 'private' are understood too).";

    public static string Of(bool published) => published ? Public : Draft;

    internal const string Contradiction = "'published' and 'visibility' disagree: send one of them.";

    internal static bool Contradicts(bool? published, string? visibility) => published is { } p && Parse(visibility) is { } v && p != v;

    /// <summary>True for public, false for draft, null for anything else (the validation attribute reports it).</summary>
    public static bool? Parse(string? visibility) => visibility?.Trim().ToLowerInvariant() switch
    {
        "public" or "published" => true,
        "private" or "draft" => false,
        _ => null,
    };
}

/// <summary>What the API and the editor show of an upstream credential: the header, and that a value is set (the value never).</summary>
public sealed record UpstreamCredentialDto(string? Header, bool ValueSet);

/// <summary>Sets or replaces a product's upstream credential: the header the gateway adds and its (write-only) value.</summary>
public sealed class UpstreamCredentialRequest
{
    [Required(ErrorMessage = "The upstream credential's header name is required.")]
    [StringLength(Gateway.GatewayRules.MaxCredentialHeaderLength, ErrorMessage = "A header name is at most 100 characters.")]
    public string Header { get; set; } = "";

    [Required(ErrorMessage = "The upstream credential's value is required.")]
    [StringLength(Gateway.GatewayRules.MaxCredentialValueLength, ErrorMessage = "The value is at most 2000 characters.")]
    public string Value { get; set; } = "";
}

public sealed record ProductQuery : PageQuery
{
    /// <summary>Admins may ask for drafts only (false) or published only (true); developers always get published ones.</summary>
    public bool? Published { get; init; }
}

/// <summary>One plan in a product form or API body. <see cref="Id"/> set: the existing plan is updated; null: a new plan.</summary>
public sealed class PlanRequest
{
    public Guid? Id { get; set; }

    [Required(ErrorMessage = "Plan name is required.")]
    [StringLength(100, ErrorMessage = "Plan name is at most 100 characters.")]
    public string Name { get; set; } = "";

    public PlanType Type { get; set; } = PlanType.Free;

    /// <summary>Requests per <see cref="RateLimitWindow"/>; null: no rate limit.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Rate limit must be between 1 and 1,000,000.")]
    public int? RateLimit { get; set; }

    public RateLimitWindow RateLimitWindow { get; set; } = RateLimitWindow.Second;

    /// <summary>Requests per <see cref="QuotaPeriod"/>; null: unlimited.</summary>
    [Range(1, long.MaxValue, ErrorMessage = "Quota must be at least 1 (leave it empty for unlimited).")]
    public long? Quota { get; set; }

    public QuotaPeriod QuotaPeriod { get; set; } = QuotaPeriod.Month;

    /// <summary>A note shown beside the price the numbers make ("billed yearly on request").</summary>
    [StringLength(100, ErrorMessage = "Price text is at most 100 characters.")]
    public string? PriceText { get; set; }

    /// <summary>
    /// ISO 4217 code of every amount of the plan (upper-cased; USD when omitted). A plan sent with no currency and no
    /// number at all is the shape from before prices were numbers: accepted, and an existing plan keeps its numbers.
    /// </summary>
    public string? Currency { get; set; }

    /// <summary>Subscription plans: the fee per calendar month (required).</summary>
    public decimal? FlatFee { get; set; }

    /// <summary>Metered plans: the price of <see cref="PriceUnit"/> calls (required).</summary>
    public decimal? UnitPrice { get; set; }

    /// <summary>How many calls a unit price is for (Metered and the tiers): 1 or 1000; 1 when omitted.</summary>
    public int? PriceUnit { get; set; }

    /// <summary>Metered plans: the least a billed month costs (optional).</summary>
    public decimal? MonthlyMinimum { get; set; }

    /// <summary>Tiered plans: Graduated (each band at its own rate, the default) or Volume.</summary>
    public TierMode? TierMode { get; set; }

    /// <summary>Tiered plans only: ascending bands, the last one may leave <c>UpTo</c> empty.</summary>
    public List<PlanTierRequest> Tiers { get; set; } = [];

    /// <summary>No currency and no number: a body written before plans had prices as numbers.</summary>
    internal bool IsUnpricedShape =>
        Currency is null && FlatFee is null && UnitPrice is null && PriceUnit is null && MonthlyMinimum is null && TierMode is null
        && (Tiers ?? []).All(t => t is null || (t.UnitPrice is null && t.FlatFee is null));
}

public sealed class PlanTierRequest
{
    [Range(1, long.MaxValue, ErrorMessage = "A tier's volume must be at least 1.")]
    public long? UpTo { get; set; }

    /// <summary>The price of the plan's <see cref="PlanRequest.PriceUnit"/> calls in this band (required for a priced plan; 0 for free calls).</summary>
    public decimal? UnitPrice { get; set; }

    /// <summary>Charged once when a month's calls reach the band.</summary>
    public decimal? FlatFee { get; set; }

    /// <summary>An optional note shown with the band.</summary>
    [StringLength(100, ErrorMessage = "A tier's note is at most 100 characters.")]
    public string? Note { get; set; }

    /// <summary>The band's price text, as older clients send it: kept as the note when <see cref="Note"/> is empty.</summary>
    [StringLength(100, ErrorMessage = "Tier price is at most 100 characters.")]
    public string? Price { get; set; }
}

/// <summary>Form and API body for a new product. Mutable so a form can bind to it.</summary>
public sealed class CreateProduct
{
    [Required(ErrorMessage = "Name is required.")]
    [StringLength(200, ErrorMessage = "Name is at most 200 characters.")]
    public string Name { get; set; } = "";

    /// <summary>Lowercase letters, digits and single hyphens; derived from the name when empty.</summary>
    [StringLength(100, ErrorMessage = "Slug is at most 100 characters.")]
    [RegularExpression("^[a-z0-9]+(-[a-z0-9]+)*$", ErrorMessage = "Slug may hold lowercase letters, digits and single hyphens only.")]
    public string? Slug { get; set; }

    [StringLength(300, ErrorMessage = "Title is at most 300 characters.")]
    public string? Title { get; set; }

    [StringLength(4000, ErrorMessage = "Description is at most 4000 characters.")]
    [MultiLineText]
    public string? Description { get; set; }

    [StringLength(2000, ErrorMessage = "Upstream URL is at most 2000 characters.")]
    public string? UpstreamUrl { get; set; }

    /// <summary>Given, or else what <see cref="Visibility"/> says, or else false.</summary>
    public bool Published { get => _published ?? ProductVisibility.Parse(Visibility) ?? false; set => _published = value; }

    private bool? _published;

    /// <summary>Another way to set <see cref="Published"/>: see <see cref="ProductVisibility"/>.</summary>
    [RegularExpression(ProductVisibility.Pattern, ErrorMessage = ProductVisibility.Message)]
    public string? Visibility { get; set; }

    /// <summary>Both were sent and they disagree: refused rather than settled by the order of the JSON fields.</summary>
    internal bool PublishedContradictsVisibility => ProductVisibility.Contradicts(_published, Visibility);

    public bool RequiresApproval { get; set; } = true;

    /// <summary>Seconds the gateway waits for the upstream before answering 504 (default 30).</summary>
    [Range(Gateway.GatewayRules.MinTimeoutSeconds, Gateway.GatewayRules.MaxTimeoutSeconds, ErrorMessage = "The upstream timeout is 1 to 600 seconds.")]
    public int? UpstreamTimeoutSeconds { get; set; }

    /// <summary>The largest request body the gateway passes on, in bytes (default 10 MiB).</summary>
    [Range(Gateway.GatewayRules.MinRequestBodyBytes, Gateway.GatewayRules.MaxRequestBodyBytes, ErrorMessage = "The body limit is 1 KiB to 1 GiB (in bytes).")]
    public long? MaxRequestBodyBytes { get; set; }

    /// <summary>Sets or replaces the upstream credential (write-only: never returned).</summary>
    public UpstreamCredentialRequest? UpstreamCredential { get; set; }

    /// <summary>True: removes the upstream credential.</summary>
    public bool? ClearUpstreamCredential { get; set; }

    public List<PlanRequest> Plans { get; set; } = [];
}

/// <summary>
/// Partial update: a null field is left as it is. <see cref="Plans"/>, when given, is the whole new list: plans
/// with an id are updated, without one added, and missing ones removed (refused while open subscriptions use them).
/// </summary>
public sealed class UpdateProduct
{
    [StringLength(200, MinimumLength = 1, ErrorMessage = "Name must be 1 to 200 characters.")]
    public string? Name { get; set; }

    [StringLength(100, MinimumLength = 1, ErrorMessage = "Slug must be 1 to 100 characters.")]
    [RegularExpression("^[a-z0-9]+(-[a-z0-9]+)*$", ErrorMessage = "Slug may hold lowercase letters, digits and single hyphens only.")]
    public string? Slug { get; set; }

    [StringLength(300, ErrorMessage = "Title is at most 300 characters.")]
    public string? Title { get; set; }

    [StringLength(4000, ErrorMessage = "Description is at most 4000 characters.")]
    [MultiLineText]
    public string? Description { get; set; }

    [StringLength(2000, ErrorMessage = "Upstream URL is at most 2000 characters.")]
    public string? UpstreamUrl { get; set; }

    /// <summary>Given, or else what <see cref="Visibility"/> says, or else null (unchanged).</summary>
    public bool? Published { get => _published ?? ProductVisibility.Parse(Visibility); set => _published = value; }

    private bool? _published;

    /// <summary>Another way to set <see cref="Published"/>: see <see cref="ProductVisibility"/>.</summary>
    [RegularExpression(ProductVisibility.Pattern, ErrorMessage = ProductVisibility.Message)]
    public string? Visibility { get; set; }

    /// <summary>Both were sent and they disagree: refused rather than settled by the order of the JSON fields.</summary>
    internal bool PublishedContradictsVisibility => ProductVisibility.Contradicts(_published, Visibility);

    public bool? RequiresApproval { get; set; }

    /// <summary>Seconds the gateway waits for the upstream before answering 504 (default 30).</summary>
    [Range(Gateway.GatewayRules.MinTimeoutSeconds, Gateway.GatewayRules.MaxTimeoutSeconds, ErrorMessage = "The upstream timeout is 1 to 600 seconds.")]
    public int? UpstreamTimeoutSeconds { get; set; }

    /// <summary>The largest request body the gateway passes on, in bytes (default 10 MiB).</summary>
    [Range(Gateway.GatewayRules.MinRequestBodyBytes, Gateway.GatewayRules.MaxRequestBodyBytes, ErrorMessage = "The body limit is 1 KiB to 1 GiB (in bytes).")]
    public long? MaxRequestBodyBytes { get; set; }

    /// <summary>Sets or replaces the upstream credential (write-only: never returned).</summary>
    public UpstreamCredentialRequest? UpstreamCredential { get; set; }

    /// <summary>True: removes the upstream credential.</summary>
    public bool? ClearUpstreamCredential { get; set; }

    public List<PlanRequest>? Plans { get; set; }
}
