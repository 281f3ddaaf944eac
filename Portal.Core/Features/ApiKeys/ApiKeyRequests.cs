using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.ApiKeys;

/// <summary>A key as pages and the API show it: never the secret, only its masked form.</summary>
public record ApiKeyDto(
    Guid Id,
    string Name,
    string? Description,
    string MaskedKey,
    IReadOnlyList<string> Scopes,
    Guid? OwnerId,
    string? OwnerEmail,
    Guid? ApplicationId,
    ApiKeyStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? PreviousSecretValidUntil);

/// <summary>
/// The answer to create and regenerate: the key's own fields and, this one time, the full <see cref="Key"/>.
/// </summary>
public sealed record ApiKeyIssued : ApiKeyDto
{
    public ApiKeyIssued(ApiKeyDto key, string secret) : base(key) => Key = secret;

    /// <summary>The full key: shown once, never stored, never shown again.</summary>
    public string Key { get; }

    // Keeps the secret out of any log line that formats this record.
    public override string ToString() => $"ApiKeyIssued {{ Id = {Id}, Key = {MaskedKey} }}";
}

public sealed record ApiKeyMetrics(int Total, int Active, int Expired, int Revoked, long CallsToday);

public sealed record UsageBucket(DateTimeOffset Start, long Count, long Errors);

public sealed record ApiKeyUsage(Guid KeyId, DateTimeOffset From, DateTimeOffset To, string Interval, IReadOnlyList<UsageBucket> Buckets, long Total, long Errors);

public sealed record ApiKeyQuery : PageQuery
{
    /// <summary>Only for those who see every key (admin, super-admin, read-only).</summary>
    public Guid? OwnerId { get; init; }

    public ApiKeyStatus? Status { get; init; }
}

public sealed record UsageQuery
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }

    /// <summary><c>hour</c> or <c>day</c> (default).</summary>
    [RegularExpression("^(hour|day)$", ErrorMessage = "Interval is 'hour' or 'day'.")]
    public string? Interval { get; init; }
}

/// <summary>Form and API body for a new key. Mutable so a form can bind to it.</summary>
public sealed class CreateApiKey
{
    [Required(ErrorMessage = "Name is required.")]
    [StringLength(100, ErrorMessage = "Name is at most 100 characters.")]
    public string Name { get; set; } = "";

    [StringLength(500, ErrorMessage = "Description is at most 500 characters.")]
    [MultiLineText]
    public string? Description { get; set; }

    [Required(ErrorMessage = "Choose at least one scope.")]
    [MinLength(1, ErrorMessage = "Choose at least one scope.")]
    public List<string> Scopes { get; set; } = [];

    /// <summary>Null: never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Another user's id: admins and super-admins only. Null: the caller.</summary>
    public Guid? OwnerId { get; set; }
}

public sealed class RegenerateApiKey
{
    public const int MaxGraceMinutes = 7 * 24 * 60;

    /// <summary>How long the old secret keeps working; 0 or null: it stops at once. At most 7 days.</summary>
    [Range(0, MaxGraceMinutes, ErrorMessage = "The grace period is 0 to 10080 minutes (7 days).")]
    public int? GracePeriodMinutes { get; set; }
}

/// <summary>Why a presented key was refused (or that it was not); the verify endpoint reuses these codes.</summary>
public enum KeyCheckCode
{
    Valid,
    Malformed,
    NotFound,
    Revoked,
    Expired,
    Disabled,
}

/// <param name="Refused">
/// For a key refused although it was found (revoked, expired, disabled): its ids as read, so what it was used for can
/// be recorded as its usage. Never set for <see cref="KeyCheckCode.NotFound"/>.
/// </param>
public sealed record KeyCheck(KeyCheckCode Code, KeyIdentity? Identity, RefusedKey? Refused = null)
{
    public bool IsValid => Code == KeyCheckCode.Valid;
}

/// <summary>The ids of a key that was found but refused: an application key's application, a personal key's owner.</summary>
public readonly record struct RefusedKey(Guid KeyId, Guid? ApplicationId, Guid? OwnerUserId);
