namespace Portal.Core.Features.Organisation;

/// <summary>The deployment's own profile: a single row.</summary>
public sealed class OrganisationProfile
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public string Name { get; set; } = "My Organisation";
    public string? ContactEmail { get; set; }
    public string? Website { get; set; }
    public string? LogoUrl { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
