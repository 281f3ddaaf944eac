namespace Portal.Core.Domain;

public enum ApiKeyStatus
{
    Active,
    Revoked,
    Expired,
}

/// <summary>
/// One credential, owned by a user (personal key for the REST API) or, later, by an application.
/// Only a SHA-256 hash of the secret is stored; the full key exists in memory once, when issued.
/// </summary>
public sealed class ApiKey
{
    /// <summary>The public key id: the "user name" of the credential, safe to show and log.</summary>
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid? OwnerUserId { get; set; }
    /// <summary>Set for application credentials (a later feature); null for personal keys.</summary>
    public Guid? ApplicationId { get; set; }
    public string Name { get; set; } = "";
    public string? Description { get; set; }
    /// <summary>Comma-separated, e.g. <c>read,write</c>.</summary>
    public string Scopes { get; set; } = "";
    /// <summary>Lowercase hex SHA-256 of the full key: the lookup path.</summary>
    public string Hash { get; set; } = "";
    /// <summary>Prefix and the first characters of the random part, for display (<c>ptl_ab12</c>).</summary>
    public string Start { get; set; } = "";
    public string Last4 { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public Guid? CreatedBy { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    /// <summary>The secret before the last regeneration, still accepted until <see cref="PreviousHashExpiresAt"/>.</summary>
    public string? PreviousHash { get; set; }
    public DateTimeOffset? PreviousHashExpiresAt { get; set; }

    public IReadOnlyList<string> ScopeList => Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries);

    public ApiKeyStatus StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? ApiKeyStatus.Revoked
        : ExpiresAt is { } expires && expires <= now ? ApiKeyStatus.Expired
        : ApiKeyStatus.Active;

    /// <summary>Replaces the secret; the old one keeps working until <paramref name="graceEndsAt"/> (or stops now).</summary>
    public void Rotate(IssuedSecret secret, DateTimeOffset? graceEndsAt)
    {
        PreviousHash = graceEndsAt is null ? null : Hash;
        PreviousHashExpiresAt = graceEndsAt;
        Hash = secret.Hash;
        Start = secret.Start;
        Last4 = secret.Last4;
    }
}
