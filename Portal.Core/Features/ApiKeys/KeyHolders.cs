using Portal.Core.Data;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.ApiKeys;

/// <summary>
/// Whose keys work: the one rule behind key authentication and verification (and their caches). A personal key works
/// while its owner is active and, when sign-ups must confirm their email, confirmed; an application key while its
/// account is active and, likewise, is not the personal account of someone still to confirm their email.
/// </summary>
public static class KeyHolders
{
    public static bool UserKeysWork(UserStatus status, bool emailConfirmed, PortalOptions options) =>
        status == UserStatus.Active && (emailConfirmed || !options.SignUp.RequireConfirmedEmail);

    /// <summary>The accounts whose applications' keys work, as a query to compose into a lookup.</summary>
    public static IQueryable<Account> AccountsWhoseKeysWork(PortalDbContext db, PortalOptions options)
    {
        var accounts = db.Accounts.Where(a => a.Status == AccountStatus.Active);
        if (!options.SignUp.RequireConfirmedEmail) return accounts;
        return accounts.Where(a => a.Kind != AccountKind.Person
            || !db.AccountMembers.Any(m => m.AccountId == a.Id && db.Users.Any(u => u.Id == m.UserId && !u.EmailConfirmed)));
    }
}
