using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Applications;

public record ApplicationDto(
    Guid Id,
    Guid AccountId,
    string AccountName,
    string Name,
    Guid ReferenceId,
    string? Description,
    DateTimeOffset CreatedAt,
    Guid? CreatedBy,
    int ActiveKeys);

/// <summary>An application credential as shown: the key id is the seed's "username"; never the secret.</summary>
public record ApplicationKeyDto(
    Guid Id,
    Guid ApplicationId,
    string MaskedKey,
    bool Enabled,
    ApiKeyStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt);

/// <summary>A new application key: its own fields and, this one time, the full <see cref="Key"/>.</summary>
public sealed record ApplicationKeyIssued : ApplicationKeyDto
{
    public ApplicationKeyIssued(ApplicationKeyDto key, string secret) : base(key) => Key = secret;

    /// <summary>The full key: shown once, never stored, never shown again.</summary>
    public string Key { get; }

    // Keeps the secret out of any log line that formats this record.
    public override string ToString() => $"ApplicationKeyIssued {{ Id = {Id}, Key = {MaskedKey} }}";
}

/// <summary>The answer to create: the application and its first key, shown once.</summary>
public sealed record ApplicationCreated(ApplicationDto Application, ApplicationKeyIssued Key);

public sealed record ApplicationQuery : PageQuery
{
    public Guid? AccountId { get; init; }

    /// <summary>Only the caller's own accounts' applications, even for an admin who may see all (My Applications).</summary>
    public bool Mine { get; init; }
}

/// <summary>Form and API body for a new application. Mutable so a form can bind to it.</summary>
public sealed class CreateApplication
{
    [Required(ErrorMessage = "Name is required.")]
    [StringLength(255, ErrorMessage = "Name is at most 255 characters.")]
    public string Name { get; set; } = "";

    [StringLength(1000, ErrorMessage = "Description is at most 1000 characters.")]
    [MultiLineText]
    public string? Description { get; set; }

    /// <summary>Optional when the caller belongs to exactly one account.</summary>
    public Guid? AccountId { get; set; }
}

/// <summary>Partial update: a null field is left as it is; an empty description clears it.</summary>
public sealed class UpdateApplication
{
    [StringLength(255, MinimumLength = 1, ErrorMessage = "Name must be 1 to 255 characters.")]
    public string? Name { get; set; }

    [StringLength(1000, ErrorMessage = "Description is at most 1000 characters.")]
    [MultiLineText]
    public string? Description { get; set; }
}

public sealed class GenerateApplicationKey
{
    /// <summary>Null: never expires.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}
