using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Verification;

/// <summary>The answer codes of <c>POST /api/v1/keys/verify</c>, checked in this order.</summary>
public enum VerifyCode
{
    [JsonStringEnumMemberName("VALID")] Valid,
    /// <summary>Malformed, unknown, or a replaced secret past its grace period; also an unknown product.</summary>
    [JsonStringEnumMemberName("NOT_FOUND")] NotFound,
    [JsonStringEnumMemberName("REVOKED")] Revoked,
    [JsonStringEnumMemberName("EXPIRED")] Expired,
    /// <summary>The key's application, account or owner is not active.</summary>
    [JsonStringEnumMemberName("DISABLED")] Disabled,
    /// <summary>No APPROVED subscription of the key's application to the product.</summary>
    [JsonStringEnumMemberName("NOT_SUBSCRIBED")] NotSubscribed,
    [JsonStringEnumMemberName("RATE_LIMITED")] RateLimited,
    [JsonStringEnumMemberName("QUOTA_EXCEEDED")] QuotaExceeded,
}

public sealed class VerifyKey
{
    [Required(ErrorMessage = "The key to verify is required.")]
    [StringLength(512, ErrorMessage = "A key is at most 512 characters.")]
    public string Key { get; set; } = "";

    /// <summary>The product's id or slug.</summary>
    [Required(ErrorMessage = "The product (id or slug) is required.")]
    [StringLength(100, ErrorMessage = "A product id or slug is at most 100 characters.")]
    public string Product { get; set; } = "";
}

public sealed record VerifyPlan(Guid Id, string Name, string Type);

/// <summary>
/// The verification answer, always HTTP 200: the caller is a gateway, and <see cref="Code"/> tells it what to do.
/// <see cref="RetryAfter"/> (seconds) and <see cref="Headers"/> are what the gateway passes on to its client.
/// </summary>
public sealed record VerifyResult(
    bool Valid,
    VerifyCode Code,
    Guid? KeyId,
    Guid? ApplicationId,
    Guid? SubscriptionId,
    Guid? ProductId,
    VerifyPlan? Plan,
    LimitState? Ratelimit,
    LimitState? Quota,
    long? RetryAfter,
    IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// The gateway's answer for one call: <see cref="Result"/> as verification decides it, and what the gateway passes on.
/// </summary>
/// <param name="AccountId">The calling application's account.</param>
/// <param name="OwnerUserId">A personal key's owner (personal keys subscribe to nothing, but their refusals are theirs to see).</param>
/// <param name="KeyRefused">The key itself failed (unknown, revoked, expired, disabled), before any product was looked at.</param>
/// <param name="RateLimitWindowSeconds">The plan's rate-limit window (null: no rate limit).</param>
/// <param name="QuotaPeriodSeconds">The length of the plan's current quota period (null: no quota).</param>
public sealed record GatewayVerdict(
    VerifyResult Result,
    Guid? AccountId,
    Guid? OwnerUserId,
    bool KeyRefused,
    int? RateLimitWindowSeconds,
    long? QuotaPeriodSeconds);
