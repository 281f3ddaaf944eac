using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Users;

namespace Portal.Core.Data;

/// <summary>
/// Fills a fresh database with a believable organisation so a new user sees a living portal.
/// Every demo user gets the same freshly generated password, printed once by the caller.
/// </summary>
public sealed class DemoData(IDbContextFactory<PortalDbContext> dbFactory, UserService users, OrganisationService organisation, TimeProvider clock)
{
    public const string DemoDomain = "demo.portal.test";

    private static readonly (string First, string Last)[] People =
    [
        ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson"), ("Linus", "Torvalds"),
        ("Margaret", "Hamilton"), ("Dennis", "Ritchie"), ("Barbara", "Liskov"), ("Ken", "Thompson"), ("Frances", "Allen"),
        ("Donald", "Knuth"), ("Radia", "Perlman"), ("Tim", "Berners-Lee"), ("Hedy", "Lamarr"), ("John", "McCarthy"),
        ("Annie", "Easley"), ("Edsger", "Dijkstra"), ("Karen", "Spärck Jones"), ("Bjarne", "Stroustrup"), ("Adele", "Goldberg"),
        ("Guido", "van Rossum"), ("Shafi", "Goldwasser"), ("Niklaus", "Wirth"), ("Sophie", "Wilson"), ("Anders", "Hejlsberg"),
        ("Jean", "Sammet"), ("Leslie", "Lamport"), ("Mary", "Kenneth Keller"), ("Ward", "Cunningham"), ("Evelyn", "Boyd Granville"),
        ("Yukihiro", "Matsumoto"), ("Lynn", "Conway"), ("James", "Gosling"), ("Joan", "Clarke"), ("Rob", "Pike"),
        ("Carol", "Shaw"), ("Brian", "Kernighan"), ("Elizabeth", "Feinler"), ("Whitfield", "Diffie"), ("Roberta", "Williams"),
    ];

    public sealed record Seeded(int Users, string Password);

    public async Task<Result<Seeded>> SeedAsync(CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (await db.Users.AnyAsync(u => u.Email!.EndsWith("@" + DemoDomain), ct))
                return new ConflictError("Demo data is already loaded.");
        }

        await organisation.UpdateAsync(Actor.System, new UpdateOrganisation
        {
            Name = "Acme Payments",
            ContactEmail = "api-team@acme.example",
            Website = "https://acme.example",
            LogoUrl = "https://acme.example/logo.png",
        }, ct);

        var password = DatabaseInitializer.GeneratePassword();
        var rolesFor = new Func<int, string>(i => i switch
        {
            < 2 => Roles.SuperAdmin,
            < 6 => Roles.Admin,
            < 10 => Roles.ReadOnly,
            _ => Roles.Developer,
        });
        var created = new List<Guid>();
        for (var i = 0; i < People.Length; i++)
        {
            var (first, last) = People[i];
            var email = $"{first}.{last.Replace(" ", "").Replace("ä", "a")}@{DemoDomain}".ToLowerInvariant();
            var result = await users.CreateAsync(Actor.System,
                new CreateUser { Email = email, DisplayName = $"{first} {last}", Password = password, Roles = [rolesFor(i)] }, ct);
            if (result.IsSuccess) created.Add(result.Value.Id);
        }

        // A lived-in history: most people have signed in at some point, a few are inactive.
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var now = clock.GetUtcNow();
            var random = new Random(42);
            var seeded = await db.Users.Where(u => created.Contains(u.Id)).ToListAsync(ct);
            foreach (var (user, i) in seeded.Select((u, i) => (u, i)))
            {
                user.CreatedAt = now.AddDays(-random.Next(30, 400));
                user.LastLoginAt = i % 7 == 6 ? null : now.AddMinutes(-random.Next(5, 60 * 24 * 45));
                if (i % 11 == 10) user.Status = UserStatus.Inactive;
            }
            await db.SaveChangesAsync(ct);
        }
        return new Seeded(created.Count, password);
    }
}
