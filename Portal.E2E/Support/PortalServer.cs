using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Users;

namespace Portal.E2E.Support;

/// <summary>
/// The real app on real Kestrel (a random loopback port), over its own SQLite file, so a browser can reach it.
/// One per test class: starting the host and warming Blazor is the slow part of a journey.
/// </summary>
public sealed class PortalServer : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminEmail = "root@portal.e2e";
    public const string AdminPassword = "Bootstrap#Pass1";
    public const string AdminDisplayName = "Administrator";

    private readonly string _databasePath = Path.Combine(Path.GetTempPath(), $"portal-e2e-{Guid.NewGuid():N}.db");

    public string BaseUrl { get; private set; } = "";

    /// <summary>Where the portal writes its email (.eml files): a folder of this server's own.</summary>
    public string MailDirectory { get; } = Path.Combine(Path.GetTempPath(), $"portal-e2e-mail-{Guid.NewGuid():N}");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Development serves the static web assets (MudBlazor's CSS and JS) straight from the build output.
        builder.UseEnvironment("Development");
        builder.UseSetting("Portal:Database:Provider", "Sqlite");
        builder.UseSetting("Portal:Database:ConnectionString", $"Data Source={_databasePath}");
        builder.UseSetting("Portal:Bootstrap:AdminEmail", AdminEmail);
        builder.UseSetting("Portal:Bootstrap:AdminPassword", AdminPassword);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Journeys point webhooks at a receiver on this machine's loopback.
        builder.UseSetting("Portal:Webhooks:AllowPrivateTargets", "true");
        builder.UseSetting("Portal:Email:PickupDirectory", MailDirectory);
        builder.UseSetting("Portal:Email:PollSeconds", "1");
        // Every journey signs in from loopback: the per-address limit on sign-in posts is not what they test.
        builder.UseSetting("Portal:SignIn:PermitLimit", "10000");
    }

    public ValueTask InitializeAsync()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseUrl = addresses.First().Replace("[::1]", "localhost").TrimEnd('/');
        return ValueTask.CompletedTask;
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A user made through the same service the Users page calls, for journeys that need one to exist already.</summary>
    public async Task<UserDto> CreateUserAsync(string role, string password, string? email = null, string? displayName = null)
    {
        var result = await Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = email ?? $"{role}-{Guid.NewGuid():N}@portal.e2e",
            DisplayName = displayName ?? $"E2E {role}",
            Password = password,
            Roles = [role],
        });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    /// <summary>An API key made through the same service the API Keys page calls, owned by the user with <paramref name="ownerEmail"/>.</summary>
    public async Task<ApiKeyIssued> IssueKeyAsync(string ownerEmail, string name, string? description, params string[] scopes)
    {
        var users = await Get<UserService>().ListAsync(Actor.System, new UserQuery { Search = ownerEmail, PageSize = 200 });
        Assert.True(users.IsSuccess, users.Error?.Detail);
        var owner = users.Value.Items.Single(u => string.Equals(u.Email, ownerEmail, StringComparison.OrdinalIgnoreCase));
        var issued = await Get<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey
        {
            Name = name,
            Description = description,
            Scopes = [.. scopes],
            OwnerId = owner.Id,
        });
        Assert.True(issued.IsSuccess, issued.Error?.Detail);
        return issued.Value;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        // Pooled connections keep the file open; clear them or the delete below leaves files behind.
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try { File.Delete(_databasePath + suffix); }
            catch (IOException) { }
        }
        // The key ring kept next to the database file.
        try { Directory.Delete(_databasePath + "-keys", recursive: true); }
        catch (IOException) { }
        try { if (Directory.Exists(MailDirectory)) Directory.Delete(MailDirectory, recursive: true); }
        catch (IOException) { }
    }
}
