using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Demo;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Host;

/// <summary><c>dotnet run --project Portal.Web -- seed-demo</c> and friends: run through the same services, then exit.</summary>
public static class CliCommands
{
    private static readonly string[] Commands = ["seed-demo", "migrate", "create-api-key"];

    public static bool IsCommand(string[] args) => Commands.Contains(CommandOf(args));

    private static string? CommandOf(string[] args) => args.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('='));

    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        var command = CommandOf(args);
        switch (command)
        {
            case "seed-demo":
                await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync();
                var result = await app.Services.GetRequiredService<DemoData>().SeedAsync();
                if (!result.IsSuccess)
                {
                    Console.Error.WriteLine(result.Error!.Detail);
                    Environment.ExitCode = 1;
                    return true;
                }
                Console.WriteLine($"Loaded demo data: {result.Value.Users} users (@{DemoData.DemoDomain}).");
                Console.WriteLine($"Every demo user signs in with the password: {result.Value.Password}");
                Console.WriteLine("It is shown only now.");
                return true;
            case "create-api-key":
                Environment.ExitCode = await CreateApiKeyAsync(app, args);
                return true;
            case "migrate":
                await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync();
                Console.WriteLine("Database is up to date.");
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// <c>create-api-key --email E --name N --scopes read,write[,admin] [--expires-in-days D]</c>: prints only the key,
    /// so a script can capture its first key on a fresh install. Problems go to stderr with exit code 1.
    /// </summary>
    private static async Task<int> CreateApiKeyAsync(WebApplication app, string[] args)
    {
        string? Option(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        var email = Option("--email");
        var name = Option("--name");
        var scopes = Option("--scopes");
        var days = Option("--expires-in-days");
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(scopes))
        {
            Console.Error.WriteLine("Usage: create-api-key --email E --name N --scopes read,write[,admin] [--expires-in-days D]");
            return 1;
        }
        if (days is not null && (!int.TryParse(days, out var d) || d < 1))
        {
            Console.Error.WriteLine("--expires-in-days must be a whole number of days, at least 1.");
            return 1;
        }

        await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync();
        var users = await app.Services.GetRequiredService<UserService>().ListAsync(Actor.System, new UserQuery { Search = email.Trim(), PageSize = 200 });
        var user = users.IsSuccess
            ? users.Value.Items.FirstOrDefault(u => string.Equals(u.Email, email.Trim(), StringComparison.OrdinalIgnoreCase))
            : null;
        if (user is null)
        {
            Console.Error.WriteLine($"There is no user with the email '{email}'.");
            return 1;
        }

        var clock = app.Services.GetRequiredService<TimeProvider>();
        var result = await app.Services.GetRequiredService<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey
        {
            Name = name,
            Scopes = [.. scopes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            ExpiresAt = days is null ? null : clock.GetUtcNow().AddDays(int.Parse(days)),
            OwnerId = user.Id,
        });
        if (!result.IsSuccess)
        {
            var error = result.Error!;
            Console.Error.WriteLine(error is ValidationError v ? string.Join(" ", v.Errors.SelectMany(e => e.Value)) : error.Detail);
            return 1;
        }
        Console.WriteLine(result.Value.Key);
        return 0;
    }
}
