using Portal.Core.Data;

namespace Portal.Web.Infrastructure;

/// <summary><c>dotnet run --project Portal.Web -- seed-demo</c> and friends: run through the same services, then exit.</summary>
public static class CliCommands
{
    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        var command = args.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('='));
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
            case "migrate":
                await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync();
                Console.WriteLine("Database is up to date.");
                return true;
            default:
                return false;
        }
    }
}
