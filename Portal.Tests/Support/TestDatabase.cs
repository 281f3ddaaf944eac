using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Users;

namespace Portal.Tests.Support;

/// <summary>
/// A real SQLite database in memory (or, asked for, a PostgreSQL database of its own on the test server), migrated
/// like production, alive while this object is. Every service comes from the same registration the web host uses,
/// over a fake clock.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string AdminPassword = "Bootstrap#Pass1";
    public const string AdminEmail = "root@portal.test";

    /// <summary>SQLite: the connection that keeps the in-memory database alive; PostgreSQL: the database to drop.</summary>
    private readonly IAsyncDisposable _keepAlive;

    private TestDatabase(DatabaseProvider provider, string connectionString, ServiceProvider services, IAsyncDisposable keepAlive)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Services = services;
        _keepAlive = keepAlive;
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }
    public ServiceProvider Services { get; }
    public FakeTimeProvider Clock => (FakeTimeProvider)Services.GetRequiredService<TimeProvider>();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public static string NewConnectionString() => $"Data Source=portal-test-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";

    /// <summary>
    /// Names the provider of every test database that does not ask for one: <c>PORTAL_TEST_PROVIDER=PostgreSQL</c>
    /// runs the service tests on PostgreSQL (docs/development.md, "Tests"). Unset: SQLite.
    /// </summary>
    public const string ProviderVariable = "PORTAL_TEST_PROVIDER";

    /// <param name="onFile">On SQLite, a database file (<see cref="SqliteFile"/>) instead of shared memory: for race tests.</param>
    public static async Task<TestDatabase> CreateAsync(Action<IServiceCollection>? configure = null, DatabaseProvider? provider = null, bool onFile = false)
    {
        provider ??= DatabaseProviders.Parse(Environment.GetEnvironmentVariable(ProviderVariable));
        string connectionString;
        IAsyncDisposable keepAlive;
        if (provider == DatabaseProvider.PostgreSql)
        {
            var postgres = await TestPostgres.CreateAsync();
            (connectionString, keepAlive) = (postgres.ConnectionString, postgres);
        }
        else if (onFile)
        {
            var file = new SqliteFile();
            (connectionString, keepAlive) = (file.ConnectionString, file);
        }
        else
        {
            connectionString = NewConnectionString();
            var sqlite = new SqliteConnection(connectionString);
            await sqlite.OpenAsync();
            keepAlive = sqlite;
        }

        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero)));
        services.AddPortalCore(connectionString, provider.Value);
        // As the web host encrypts webhook secrets, with a key ring that lives as long as the test.
        services.AddSingleton<Portal.Core.Features.Webhooks.IWebhookSecretProtector>(
            new Portal.Web.Features.Webhooks.DataProtectionWebhookSecrets(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()));
        services.AddSingleton<Portal.Core.Features.Gateway.IUpstreamCredentialProtector>(
            new Portal.Web.Features.Gateway.DataProtectionUpstreamCredentials(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()));
        services.AddOptions<Microsoft.AspNetCore.Identity.IdentityOptions>().Configure(o => o.Password.RequiredLength = 8);
        services.Configure<PortalOptions>(o =>
        {
            o.Bootstrap.AdminEmail = AdminEmail;
            o.Bootstrap.AdminPassword = AdminPassword;
        });
        // Fewer PBKDF2 rounds than production: tests create hundreds of users and the hash strength is not under test.
        services.Configure<Microsoft.AspNetCore.Identity.PasswordHasherOptions>(o => o.IterationCount = 1000);
        configure?.Invoke(services);
        var serviceProvider = services.BuildServiceProvider();
        await serviceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync();
        return new TestDatabase(provider.Value, connectionString, serviceProvider, keepAlive);
    }

    public async Task<PortalDbContext> OpenAsync() =>
        await Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

    /// <summary>The bootstrapped super-admin as an interactive actor.</summary>
    public async Task<Actor> RootAsync()
    {
        await using var db = await OpenAsync();
        var root = await db.Users.SingleAsync(u => u.Email == AdminEmail);
        return new Actor(root.Id, AdminEmail, [Roles.SuperAdmin]);
    }

    /// <summary>Creates a user through the service and returns an actor for them (optionally acting through a key with scopes).</summary>
    public async Task<(UserDto User, Actor Actor)> CreateUserAsync(string role, string? email = null, IReadOnlyList<string>? scopes = null)
    {
        email ??= $"{role}-{Guid.NewGuid():N}@portal.test";
        var created = await Get<UserService>().CreateAsync(await RootAsync(),
            new CreateUser { Email = email, DisplayName = $"Test {role}", Password = "Passw0rd!", Roles = [role] });
        var user = created.Value;
        return (user, new Actor(user.Id, user.Email, user.Roles, scopes));
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await _keepAlive.DisposeAsync();
    }
}
