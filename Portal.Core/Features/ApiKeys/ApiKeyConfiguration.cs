using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Domain;
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
        // An application's keys; partial, so that the personal keys' list (ApplicationId IS NULL) is never planned
        // through it but through its own indexes below. With the state columns, so the applications list counts a
        // page's active keys from this index alone: without them SQLite reads the page's fifty ids through
        // IX_ApiKeys_State instead (every active key of a million).
        key.HasIndex(k => new { k.ApplicationId, k.RevokedAt, k.ExpiresAt }, "IX_ApiKeys_ApplicationId").HasFilter("\"ApplicationId\" IS NOT NULL");
        key.HasIndex(k => k.CreatedAt);
        // The API Keys list (personal keys of everyone, a million keys): each offered sort reads its own partial index
        // in order, both directions, ties by Id; the metric cards count from the last one alone.
        const string personal = "\"ApplicationId\" IS NULL AND \"OwnerUserId\" IS NOT NULL";
        key.HasIndex(k => new { k.CreatedAt, k.Id }, "IX_ApiKeys_Personal_CreatedAt").HasFilter(personal);
        key.HasIndex(k => new { k.Name, k.Id }, "IX_ApiKeys_Personal_Name").HasFilter(personal);
        key.HasIndex(k => new { k.LastUsedAt, k.Id }, "IX_ApiKeys_Personal_LastUsedAt").HasFilter(personal);
        // With the filter's columns, so that SQLite counts from the index alone.
        key.HasIndex(k => new { k.RevokedAt, k.ExpiresAt, k.ApplicationId, k.OwnerUserId }, "IX_ApiKeys_Personal_State").HasFilter(personal);
        // The usage summary's active keys (every key, personal and application): a count over the narrow index alone,
        // not a scan of the table's wide rows (0.5 s at a million keys).
        key.HasIndex(k => new { k.RevokedAt, k.ExpiresAt }, "IX_ApiKeys_State");
        // The expiry notices' sweep reads keys due within a window in (ExpiresAt, Id) order, a batch at a time.
        key.HasIndex(k => new { k.ExpiresAt, k.Id }, "IX_ApiKeys_Expiring").HasFilter("\"ExpiresAt\" IS NOT NULL AND \"RevokedAt\" IS NULL");
        // Deleting a user deletes their keys: a key must never outlive its owner.
        key.HasOne<PortalUser>().WithMany().HasForeignKey(k => k.OwnerUserId).OnDelete(DeleteBehavior.Cascade);
    }
}
