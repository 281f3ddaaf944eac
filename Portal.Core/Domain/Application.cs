using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Accounts;

namespace Portal.Core.Domain;

/// <summary>A developer's application, owned by an account. Its credentials are <c>ApiKey</c> rows with <c>ApplicationId</c> set.</summary>
public sealed class Application
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid AccountId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>The seed's "Reference ID": generated, shown to the developer, searchable.</summary>
    public Guid ReferenceId { get; set; } = Guid.NewGuid();
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public Guid? CreatedBy { get; set; }
}

internal sealed class ApplicationConfiguration : IEntityTypeConfiguration<Application>
{
    public void Configure(EntityTypeBuilder<Application> app)
    {
        app.ToTable("Applications");
        app.Property(a => a.Id).ValueGeneratedNever();
        app.Property(a => a.Name).HasMaxLength(255).IsRequired();
        app.Property(a => a.Description).HasMaxLength(1000);
        // The FAQ: a name is unique within its account; another account may use the same one.
        app.HasIndex(a => new { a.AccountId, a.Name }).IsUnique();
        app.HasIndex(a => a.ReferenceId).IsUnique();
        // The lists' sorts (every application of a portal of 200,000): each read in index order, ties by Id.
        app.HasIndex(a => new { a.CreatedAt, a.Id });
        app.HasIndex(a => new { a.Name, a.Id });
        // An account with applications cannot vanish under them: their keys must be revoked first.
        app.HasOne<Account>().WithMany().HasForeignKey(a => a.AccountId).OnDelete(DeleteBehavior.Restrict);
    }
}
