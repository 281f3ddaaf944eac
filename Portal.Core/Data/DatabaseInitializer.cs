using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Features.Users;

namespace Portal.Core.Data;

/// <summary>Start-up: the SQLite files' permissions, migrations, WAL mode, the fixed roles, and on an empty database the first super-admin.</summary>
public sealed class DatabaseInitializer(
    IDbContextFactory<PortalDbContext> dbFactory,
    UserService users,
    IOptions<PortalOptions> options,
    ILogger<DatabaseInitializer> logger)
{
    public const string DefaultAdminEmail = "admin@localhost";

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (db.Database.IsSqlite())
            {
                SqliteFiles.RestrictToOwner(db.Database.GetConnectionString());
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", ct);
            }
            // A migration may rebuild a big table (UsageEventPartitions copies every usage event on PostgreSQL): minutes
            // per 10 million rows, far past the default 30 s a statement may take.
            db.Database.SetCommandTimeout(TimeSpan.FromHours(24));
            await db.Database.MigrateAsync(ct);
            db.Database.SetCommandTimeout(null);
            // The WAL and SHM files SQLite made just now, should the database file have been wider when they were made.
            if (db.Database.IsSqlite()) SqliteFiles.RestrictToOwner(db.Database.GetConnectionString());

            var existing = await db.Roles.Select(r => r.Name).ToListAsync(ct);
            foreach (var role in Roles.All.Except(existing!))
                db.Roles.Add(new PortalRole(role!));
            if (!await db.Organisation.AnyAsync(ct))
                db.Organisation.Add(new Features.Organisation.OrganisationProfile());
            await db.SaveChangesAsync(ct);

            if (await db.Users.AnyAsync(ct)) return;
        }
        await BootstrapAdminAsync(ct);
    }

    private async Task BootstrapAdminAsync(CancellationToken ct)
    {
        var bootstrap = options.Value.Bootstrap;
        var email = string.IsNullOrWhiteSpace(bootstrap.AdminEmail) ? DefaultAdminEmail : bootstrap.AdminEmail.Trim();
        var generated = string.IsNullOrEmpty(bootstrap.AdminPassword);
        var password = generated ? GeneratePassword() : bootstrap.AdminPassword!;

        var result = await users.CreateAsync(Actor.System,
            new CreateUser { Email = email, DisplayName = "Administrator", Password = password, Roles = [Roles.SuperAdmin] }, ct);
        if (!result.IsSuccess)
            throw new InvalidOperationException($"Could not create the bootstrap admin '{email}': {Describe(result.Error!)}");

        logger.LogInformation("Created the first super-admin {Email}", email);
        if (generated)
        {
            // Straight to the console, never to the log pipeline: the only time this password is shown.
            Console.WriteLine();
            Console.WriteLine("==================================================================");
            Console.WriteLine($" Portal: first super-admin created");
            Console.WriteLine($"   email:    {email}");
            Console.WriteLine($"   password: {password}");
            Console.WriteLine(" This password is shown once. Sign in and change it, or set");
            Console.WriteLine(" Portal__Bootstrap__AdminPassword before the first start.");
            Console.WriteLine("==================================================================");
            Console.WriteLine();
        }
    }

    private static string Describe(Error error) =>
        error is ValidationError v ? string.Join(" ", v.Errors.SelectMany(e => e.Value)) : error.Detail;

    /// <summary>20 characters from four classes, so it passes any sensible password policy.</summary>
    public static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789", symbols = "!@#$%*-_+?";
        var chars = new List<char>
        {
            lower[RandomNumberGenerator.GetInt32(lower.Length)],
            upper[RandomNumberGenerator.GetInt32(upper.Length)],
            digits[RandomNumberGenerator.GetInt32(digits.Length)],
            symbols[RandomNumberGenerator.GetInt32(symbols.Length)],
        };
        const string all = lower + upper + digits + symbols;
        while (chars.Count < 20) chars.Add(all[RandomNumberGenerator.GetInt32(all.Length)]);
        return new string([.. chars.OrderBy(_ => RandomNumberGenerator.GetInt32(int.MaxValue))]);
    }
}
