using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.ApiKeys;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> key)
    {
        key.ToTable("ApiKeys");
        key.Property(k => k.Id).ValueGeneratedNever();
        key.Property(k => k.Name).HasMaxLength(100).IsRequired();
        key.Property(k => k.Description).HasMaxLength(500);
        key.Property(k => k.Scopes).HasMaxLength(100).IsRequired();
        key.Property(k => k.Hash).HasMaxLength(64).IsRequired();
        key.Property(k => k.PreviousHash).HasMaxLength(64);
        key.Property(k => k.Start).HasMaxLength(32).IsRequired();
        key.Property(k => k.Last4).HasMaxLength(4).IsRequired();
        key.Ignore(k => k.ScopeList);
        key.HasIndex(k => k.Hash).IsUnique();
        // Only set during a regeneration grace period; the second lookup path then.
        key.HasIndex(k => k.PreviousHash);
        // Null owners (application keys) are distinct in a unique index, so this binds personal keys only.
        key.HasIndex(k => new { k.OwnerUserId, k.Name }).IsUnique();
        key.HasIndex(k => k.ApplicationId);
        key.HasIndex(k => k.CreatedAt);
        // Deleting a user deletes their keys: a key must never outlive its owner.
        key.HasOne<PortalUser>().WithMany().HasForeignKey(k => k.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}
