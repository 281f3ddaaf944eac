using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Users;

namespace Portal.Core.Data;

internal sealed class PortalUserConfiguration : IEntityTypeConfiguration<PortalUser>
{
    public void Configure(EntityTypeBuilder<PortalUser> user)
    {
        user.Property(u => u.DisplayName).HasMaxLength(200).IsRequired();
        user.Property(u => u.Status).HasConversion<string>().HasMaxLength(16);
        user.HasIndex(u => u.Status);
        user.HasIndex(u => u.DisplayName);
        user.HasIndex(u => u.CreatedAt);
    }
}

internal sealed class OrganisationConfiguration : IEntityTypeConfiguration<OrganisationProfile>
{
    public void Configure(EntityTypeBuilder<OrganisationProfile> org)
    {
        org.ToTable("Organisation");
        org.Property(o => o.Id).ValueGeneratedNever();
        org.Property(o => o.Name).HasMaxLength(200).IsRequired();
        org.Property(o => o.ContactEmail).HasMaxLength(256);
        org.Property(o => o.Website).HasMaxLength(2048);
        org.Property(o => o.LogoUrl).HasMaxLength(2048);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> audit)
    {
        audit.ToTable("AuditEntries");
        audit.Property(a => a.ActorEmail).HasMaxLength(256);
        audit.Property(a => a.Action).HasMaxLength(64);
        audit.Property(a => a.TargetType).HasMaxLength(64);
        audit.Property(a => a.TargetId).HasMaxLength(64);
        audit.Property(a => a.Target).HasMaxLength(256);
        audit.Property(a => a.Details).HasMaxLength(2000);
        audit.Property(a => a.IpAddress).HasMaxLength(64);
        audit.HasIndex(a => a.At);
        audit.HasIndex(a => new { a.ActorEmail, a.At });
        audit.HasIndex(a => new { a.Action, a.At });
    }
}

internal sealed class EmailOutboxConfiguration : IEntityTypeConfiguration<Features.Email.EmailOutboxMessage>
{
    public void Configure(EntityTypeBuilder<Features.Email.EmailOutboxMessage> m)
    {
        m.ToTable("EmailOutbox");
        m.Property(x => x.To).HasMaxLength(256).IsRequired();
        m.Property(x => x.Subject).HasMaxLength(300).IsRequired();
        m.Property(x => x.Status).HasConversion<string>().HasMaxLength(16);
        m.Property(x => x.LastError).HasMaxLength(500);
        m.HasIndex(x => new { x.Status, x.NextAttemptAt });
        m.HasIndex(x => x.CreatedAt);
    }
}
