using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;

namespace Portal.Core.Features.Organisation;

/// <param name="UpdatedAt">When the profile was last saved; null until it first is (a fresh install shows the defaults).</param>
public sealed record OrganisationDto(string Name, string? ContactEmail, string? Website, string? LogoUrl, DateTimeOffset? UpdatedAt);

public sealed class UpdateOrganisation
{
    [Required(ErrorMessage = "Name is required.")]
    [StringLength(200, ErrorMessage = "Name must be at most 200 characters.")]
    public string Name { get; set; } = "";

    [EmailAddress(ErrorMessage = "Enter a valid email address.")]
    [StringLength(256)]
    public string? ContactEmail { get; set; }

    [HttpUrl(ErrorMessage = "Enter an http(s) address.")]
    [StringLength(2048)]
    public string? Website { get; set; }

    [HttpUrl(ErrorMessage = "Enter an http(s) address.")]
    [StringLength(2048)]
    public string? LogoUrl { get; set; }
}

/// <summary>An absolute http or https URL, or nothing. Refuses javascript: and data: addresses that would end up in an href or src.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class HttpUrlAttribute : ValidationAttribute
{
    public override bool IsValid(object? value) =>
        value is null || value is string s && (s.Length == 0 ||
            Uri.TryCreate(s, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps));
}

public sealed class OrganisationService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    public async Task<Result<OrganisationDto>> GetAsync(Actor actor, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.OrganisationRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var org = await db.Organisation.AsNoTracking().FirstOrDefaultAsync(o => o.Id == OrganisationProfile.SingletonId, ct) ?? new OrganisationProfile();
        return ToDto(org);
    }

    public async Task<Result<OrganisationDto>> UpdateAsync(Actor actor, UpdateOrganisation request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.OrganisationWrite)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var org = await db.Organisation.FirstOrDefaultAsync(o => o.Id == OrganisationProfile.SingletonId, ct);
        if (org is null) db.Organisation.Add(org = new OrganisationProfile());

        org.Name = request.Name.Trim();
        org.ContactEmail = Blank(request.ContactEmail);
        org.Website = Blank(request.Website);
        org.LogoUrl = Blank(request.LogoUrl);
        org.UpdatedAt = clock.GetUtcNow();
        db.Audit.Add(AuditEntry.For(actor, AuditActions.OrganisationUpdated, org.UpdatedAt, "organisation", null, org.Name));
        await db.SaveChangesAsync(ct);
        return ToDto(org);
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static OrganisationDto ToDto(OrganisationProfile o) =>
        new(o.Name, o.ContactEmail, o.Website, o.LogoUrl, o.UpdatedAt == default ? null : o.UpdatedAt);
}
