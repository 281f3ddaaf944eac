using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Accounts;

public enum AccountKind
{
    Person,
    Team,
}

/// <summary>A suspended account's applications keep their data, but their keys verify as DISABLED.</summary>
public enum AccountStatus
{
    Active,
    Suspended,
}

/// <summary>A developer account (one person's, or a team's): it owns applications, and its members see and manage them.</summary>
public sealed class Account
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string Name { get; set; } = "";
    public AccountKind Kind { get; set; }
    public AccountStatus Status { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>
    /// A notice, not a limit: when one of the account's metered or tiered subscriptions costs more than this in a
    /// month (in that subscription's plan currency), its members get <c>billing.threshold_reached</c> and an email. Null: no notice.
    /// </summary>
    public decimal? SpendingThreshold { get; set; }
}

public sealed class AccountMember
{
    public Guid AccountId { get; set; }
    public Guid UserId { get; set; }
}

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> account)
    {
        account.ToTable("Accounts");
        account.Property(a => a.Id).ValueGeneratedNever();
        account.Property(a => a.Name).HasMaxLength(200).IsRequired();
        account.Property(a => a.Kind).HasConversion<string>().HasMaxLength(16);
        account.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
        account.HasIndex(a => a.Name);
        account.Property(a => a.SpendingThreshold).HasPrecision(18, 6);
    }
}

internal sealed class AccountMemberConfiguration : IEntityTypeConfiguration<AccountMember>
{
    public void Configure(EntityTypeBuilder<AccountMember> member)
    {
        member.ToTable("AccountMembers");
        member.HasKey(m => new { m.AccountId, m.UserId });
        // "Which accounts is this user in" is asked on every developer's application query.
        member.HasIndex(m => m.UserId);
        member.HasOne<Account>().WithMany().HasForeignKey(m => m.AccountId).OnDelete(DeleteBehavior.Cascade);
        member.HasOne<PortalUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
