using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;

namespace Portal.Core.Data;

/// <summary>
/// Fills a fresh database with a believable organisation so a new user sees a living portal.
/// Every demo user gets the same freshly generated password, printed once by the caller.
/// </summary>
public sealed class DemoData(
    IDbContextFactory<PortalDbContext> dbFactory,
    UserService users,
    OrganisationService organisation,
    ApiKeyService apiKeys,
    AccountService accounts,
    ApplicationService applications,
    TimeProvider clock)
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

        await SeedApiKeysAsync(created, ct);
        await SeedApplicationsAsync(created, ct);

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

    private static readonly string[] AppNames =
    [
        "Mobile iOS App", "Android App", "Web Shop", "Partner Portal", "Invoice Sync", "Fraud Monitor",
        "Checkout Widget", "Analytics Export", "Loyalty Program", "Support Bot",
    ];

    private static readonly string[] TeamNames = ["Mobile Team", "Data Platform", "Partner Integrations"];

    /// <summary>
    /// Developers' personal accounts exist already (made with each developer). Adds a few team accounts, then
    /// applications through the service (each with its first key), a second key for some and a revoked one for others.
    /// </summary>
    private async Task SeedApplicationsAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        List<Guid> developers;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            developers = await db.AccountMembers.Where(m => userIds.Contains(m.UserId)).Select(m => m.UserId).Distinct().ToListAsync(ct);
        var admin = Actor.System;
        var teams = new List<AccountDto>();
        foreach (var (name, t) in TeamNames.Select((n, i) => (n, i)))
        {
            var members = developers.Where((_, i) => i % TeamNames.Length == t).Take(4).ToList();
            var team = await accounts.CreateAsync(admin, new CreateAccount { Name = name, Kind = AccountKind.Team, MemberIds = members }, ct);
            if (team.IsSuccess) teams.Add(team.Value);
        }

        var apps = new List<ApplicationCreated>();
        // Every third developer has not created anything yet: the empty state is part of the demo.
        foreach (var (userId, d) in developers.Select((id, i) => (id, i)).Where(x => x.i % 3 != 2))
        {
            var developer = (await users.GetAsync(admin, userId, ct)).Value;
            var actor = new Actor(userId, developer.Email, developer.Roles);
            var personal = (await accounts.ListMineAsync(actor, ct)).Value.First(a => a.Kind == AccountKind.Person);
            for (var a = 0; a < 1 + d % 3; a++)
            {
                var name = AppNames[(d + a * 3) % AppNames.Length];
                var result = await applications.CreateAsync(actor,
                    new CreateApplication { Name = name, Description = $"{name} by {developer.DisplayName}", AccountId = personal.Id }, ct);
                if (result.IsSuccess) apps.Add(result.Value);
            }
        }
        foreach (var (team, t) in teams.Select((x, i) => (x, i)))
            for (var a = 0; a < 2 + t; a++)
            {
                var name = AppNames[(t * 4 + a) % AppNames.Length];
                var result = await applications.CreateAsync(admin,
                    new CreateApplication { Name = name, Description = $"{name}, run by the {team.Name}", AccountId = team.Id }, ct);
                if (result.IsSuccess) apps.Add(result.Value);
            }

        // Rotation in progress (seed 001, Scenario 3): a second key for some, the first one revoked for a few of those.
        foreach (var (app, i) in apps.Select((x, i) => (x, i)))
        {
            if (i % 3 != 0) continue;
            await applications.GenerateKeyAsync(admin, app.Application.Id, new GenerateApplicationKey(), ct);
            if (i % 2 == 0) await applications.RevokeKeyAsync(admin, app.Application.Id, app.Key.Id, ct);
        }

        await using var write = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var random = new Random(11);
        var ids = apps.Select(a => a.Application.Id).ToList();
        foreach (var app in await write.Applications.AsTracking().Where(a => ids.Contains(a.Id)).ToListAsync(ct))
            app.CreatedAt = now.AddDays(-random.Next(10, 300)).AddSeconds(-random.Next(86_400));
        await write.SaveChangesAsync(ct);
    }

    private static readonly string[] KeyNames = ["ci-pipeline", "reporting", "local-dev", "billing-sync", "monitoring"];

    /// <summary>
    /// Keys in every state (active, expiring, expired, revoked, in a regeneration grace period) through the service,
    /// then 30 days of hourly usage inserted directly in bulk: going through the usage queue would be needlessly slow.
    /// </summary>
    private async Task SeedApiKeysAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        var random = new Random(7);
        var now = clock.GetUtcNow();
        var issued = new List<(ApiKeyDto Key, int Index)>();
        foreach (var (userId, u) in userIds.Take(24).Select((id, i) => (id, i)))
        {
            var user = (await users.GetAsync(Actor.System, userId, ct)).Value;
            var allowed = ApiKeyService.ScopesAllowedFor(user.Roles);
            for (var k = 0; k < 1 + u % 3; k++)
            {
                var scopes = allowed.Take(1 + random.Next(allowed.Count)).ToList();
                var result = await apiKeys.CreateAsync(Actor.System, new CreateApiKey
                {
                    Name = KeyNames[(u + k) % KeyNames.Length],
                    Description = $"{KeyNames[(u + k) % KeyNames.Length].Replace('-', ' ')} for {user.DisplayName}",
                    Scopes = scopes,
                    ExpiresAt = (u + k) % 4 == 0 ? null : now.AddDays(random.Next(5, 365)),
                    OwnerId = userId,
                }, ct);
                if (result.IsSuccess) issued.Add((result.Value.ApiKey, issued.Count));
            }
        }
        foreach (var (key, i) in issued)
        {
            if (i % 7 == 3) await apiKeys.RevokeAsync(Actor.System, key.Id, ct);
            else if (i % 9 == 5) await apiKeys.RegenerateAsync(Actor.System, key.Id, new RegenerateApiKey { GracePeriodMinutes = 24 * 60 }, ct);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var ids = issued.Select(k => k.Key.Id).ToList();
        var keys = await db.ApiKeys.AsTracking().Where(k => ids.Contains(k.Id)).ToListAsync(ct);
        var thisHour = UsageWriter.HourOf(now);
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            key.CreatedAt = now.AddDays(-random.Next(31, 200));
            // Every fifth key ran out last week.
            if (i % 5 == 2 && key.RevokedAt is null) key.ExpiresAt = now.AddDays(-random.Next(1, 7));
            if (key.RevokedAt is not null) key.RevokedAt = now.AddDays(-random.Next(1, 20));
            var stopsAt = key.RevokedAt ?? (key.ExpiresAt < now ? key.ExpiresAt : now);
            var busy = random.Next(5, 120);
            DateTimeOffset? lastUsed = null;
            for (var hour = thisHour.AddDays(-30); hour <= thisHour && hour < stopsAt; hour = hour.AddHours(1))
            {
                // Office hours are busier; some hours are quiet.
                var load = hour.Hour is >= 8 and <= 18 ? busy : busy / 6;
                var count = random.Next(0, load + 1);
                if (count == 0) continue;
                db.UsageRollups.Add(new UsageRollup { KeyId = key.Id, HourStart = hour, Count = count, Errors = random.Next(0, count / 20 + 1) });
                lastUsed = hour.AddMinutes(random.Next(60));
            }
            key.LastUsedAt = lastUsed > now ? now : lastUsed;
            db.Entry(key).State = EntityState.Modified;
        }
        await db.SaveChangesAsync(ct);
    }
}
