using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Accounts;

namespace Portal.Core.Features.Billing;

/// <summary>
/// A closed month's statement of one account, frozen: its lines as they were priced when the month closed (or when an
/// admin re-issued it), so a later price change never rewrites it. Revisions count up from 1; the highest is shown,
/// the earlier ones stay. (AccountId, Month, Revision) is unique: several instances storing the same month at once
/// insert one row, and the others read it.
/// </summary>
public sealed class BillingStatement
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid AccountId { get; set; }
    /// <summary>The first instant of the month (UTC).</summary>
    public DateTimeOffset Month { get; set; }
    public int Revision { get; set; }
    public DateTimeOffset IssuedAt { get; set; }
    /// <summary>Null when the system stored it on closing the month (or on the first read after).</summary>
    public Guid? IssuedBy { get; set; }
    /// <summary>Why an admin re-issued it.</summary>
    public string? Reason { get; set; }
    /// <summary>The lines (<see cref="StatementLine"/>) as JSON: read and written whole, never queried inside.</summary>
    public string Lines { get; set; } = "[]";
}

internal sealed class BillingStatementConfiguration : IEntityTypeConfiguration<BillingStatement>
{
    public void Configure(EntityTypeBuilder<BillingStatement> statement)
    {
        statement.ToTable("BillingStatements");
        statement.Property(s => s.Id).ValueGeneratedNever();
        statement.Property(s => s.Reason).HasMaxLength(1000);
        statement.Property(s => s.Lines).IsRequired();
        statement.HasIndex(s => new { s.AccountId, s.Month, s.Revision }).IsUnique();
        // A month over every account (the admin view, the export, the closing sweep) reads this range.
        statement.HasIndex(s => new { s.Month, s.AccountId, s.Revision });
        statement.HasOne<Account>().WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
