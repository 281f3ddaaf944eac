using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Core.Data;
using Portal.Core.Features.Email;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Notifications;

/// <summary>
/// Puts notification emails in the outbox, in the caller's own save, for the people concerned who have not turned that
/// kind off: the active members of an account, or one user. The caller wakes the outbox after its save.
/// </summary>
public sealed class Notifier(IDbContextFactory<PortalDbContext> dbFactory, EmailOutbox outbox, IOptions<PortalOptions> options, TimeProvider clock)
{
    /// <summary>The active members of the account who want <paramref name="kind"/>.</summary>
    public static IQueryable<string> AccountMembers(PortalDbContext db, Guid accountId, NotificationKind kind) =>
        Wanting(db, db.Users.Where(u => db.AccountMembers.Any(m => m.AccountId == accountId && m.UserId == u.Id)), kind);

    /// <summary>The user, if active and wanting <paramref name="kind"/>.</summary>
    public static IQueryable<string> User(PortalDbContext db, Guid userId, NotificationKind kind) =>
        Wanting(db, db.Users.Where(u => u.Id == userId), kind);

    private static IQueryable<string> Wanting(PortalDbContext db, IQueryable<PortalUser> users, NotificationKind kind) =>
        users.Where(u => u.Status == UserStatus.Active && u.Email != null
                && !db.NotificationPreferences.Any(p => p.UserId == u.Id && p.Kind == kind && !p.Enabled))
            .OrderBy(u => u.NormalizedEmail)
            .Select(u => u.Email!);

    /// <summary>Adds one message per recipient to <paramref name="db"/>; answers how many.</summary>
    public async Task<int> AddAsync(PortalDbContext db, IQueryable<string> recipients, EmailTemplate template, EmailBrand? brand, DateTimeOffset now, CancellationToken ct)
    {
        var to = await recipients.ToListAsync(ct);
        if (to.Count == 0) return 0;
        brand ??= await EmailTemplate.BrandAsync(db, ct);
        foreach (var address in to) outbox.Add(db, template.Render(address, brand), now);
        return to.Count;
    }

    /// <summary>The welcome a newcomer gets after signing up: a save of its own (sign-up has already committed).</summary>
    public async Task WelcomeAsync(Guid userId, string displayName, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var brand = await EmailTemplate.BrandAsync(db, ct);
        if (await AddAsync(db, User(db, userId, NotificationKind.Welcome), NotificationEmails.Welcome(brand.Name, displayName, Link("/applications")),
                brand, clock.GetUtcNow(), ct) == 0) return;
        await db.SaveChangesAsync(ct);
        outbox.Wake();
    }

    /// <summary>An address in the portal for a message, when <c>Portal:Email:BaseUrl</c> says where the portal is; else none.</summary>
    public string? Link(string path) =>
        options.Value.Email.BaseUrl is { Length: > 0 } baseUrl && Uri.TryCreate(baseUrl, UriKind.Absolute, out var root) && root.Scheme is "https" or "http"
            ? root.AbsoluteUri.TrimEnd('/') + path
            : null;

    public void Wake() => outbox.Wake();
}
