using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Tests.Support;

/// <summary>
/// The whole web app over a private in-memory SQLite database (or a PostgreSQL database the caller made). Calls authenticate with real API keys issued by
/// the service (<see cref="ClientWithKeyAsync"/>); older tests may still name a user and scopes in test headers
/// (<see cref="ClientAsAsync"/>), which <see cref="TestAuthenticator"/> honours before falling back to the real key check.
/// </summary>
public sealed class PortalApiFactory : WebApplicationFactory<Program>
{
    private readonly string _connectionString;
    private readonly DatabaseProvider _provider;
    private readonly SqliteConnection? _keepAlive;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public PortalApiFactory() : this(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString())
    {
    }

    /// <summary>
    /// On PostgreSQL, <paramref name="connectionString"/> names a database the caller creates and drops (<see cref="TestPostgres"/>);
    /// on SQLite it may name a file (<see cref="SqliteFile"/>). <paramref name="configureServices"/> runs after the
    /// factory's own test services, e.g. to add an interceptor to the database context. <paramref name="settings"/> are
    /// configuration values (<c>Portal:Api:PublicOpenApi</c>) set after the factory's own. On PostgreSQL the key ring is
    /// encrypted with <see cref="TestCertificate"/>, as production needs it to be (unless the settings say otherwise).
    /// </summary>
    internal PortalApiFactory(DatabaseProvider provider, string connectionString, Action<IServiceCollection>? configureServices = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        (_provider, _connectionString, _configureServices) = (provider, connectionString, configureServices);
        _settings = settings ?? new Dictionary<string, string?>();
        if (provider != DatabaseProvider.Sqlite) return;
        _keepAlive = new SqliteConnection(_connectionString);
        _keepAlive.Open();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        if (_provider != DatabaseProvider.Sqlite) builder.UseSetting("Portal:Database:Provider", _provider.ToString());
        builder.UseSetting("Portal:Database:ConnectionString", _connectionString);
        builder.UseSetting("Portal:Bootstrap:AdminEmail", TestDatabase.AdminEmail);
        builder.UseSetting("Portal:Bootstrap:AdminPassword", TestDatabase.AdminPassword);
        if (_provider != DatabaseProvider.Sqlite)
        {
            builder.UseSetting("Portal:DataProtection:CertificatePath", TestCertificate.Path);
            builder.UseSetting("Portal:DataProtection:CertificatePassword", TestCertificate.Password);
        }
        // Every test client shares one address (the test server has none): the per-address limit on sign-in posts is
        // for AccountThrottleTests to set, not for the tests that sign in dozens of times.
        builder.UseSetting("Portal:SignIn:PermitLimit", "10000");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<ApiKeyAuthenticator>();
            services.AddSingleton<IApiKeyAuthenticator, TestAuthenticator>();
            // Fewer PBKDF2 rounds than production: tests create many users and the hash strength is not under test.
            services.Configure<Microsoft.AspNetCore.Identity.PasswordHasherOptions>(o => o.IterationCount = 1000);
            _configureServices?.Invoke(services);
        });
    }

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<Actor> RootAsync()
    {
        var users = Get<UserService>();
        var system = Actor.System;
        var root = (await users.ListAsync(system, new UserQuery { Search = TestDatabase.AdminEmail })).Value.Items.Single();
        return new Actor(root.Id, root.Email, root.Roles);
    }

    /// <summary>A client acting as a new user of <paramref name="role"/>, through a "key" with <paramref name="scopes"/>.</summary>
    public async Task<(HttpClient Client, UserDto User)> ClientAsAsync(string role, params string[] scopes)
    {
        var created = await Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"{role}-{Guid.NewGuid():N}@portal.test",
            DisplayName = $"Test {role}",
            Password = "Passw0rd!",
            Roles = [role],
        });
        var user = created.Value;
        return (ClientFor(user.Id, user.Email, [role], scopes.Length == 0 ? Scopes.All : scopes), user);
    }

    private readonly Dictionary<string, UserDto> _sharedUsers = [];
    private readonly SemaphoreSlim _sharedLock = new(1, 1);

    /// <summary>Like <see cref="ClientAsAsync"/> but one user per role for the whole fixture: for tests that change nothing.</summary>
    public async Task<HttpClient> SharedClientAsync(string role, IReadOnlyList<string> scopes)
    {
        await _sharedLock.WaitAsync();
        try
        {
            if (!_sharedUsers.TryGetValue(role, out var user))
                _sharedUsers[role] = user = (await ClientAsAsync(role)).User;
            return ClientFor(user.Id, user.Email, [role], scopes);
        }
        finally
        {
            _sharedLock.Release();
        }
    }

    public HttpClient ClientFor(Guid userId, string email, IReadOnlyList<string> roles, IReadOnlyList<string> scopes)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "test");
        client.DefaultRequestHeaders.Add(TestAuthenticator.UserHeader, userId.ToString());
        client.DefaultRequestHeaders.Add(TestAuthenticator.EmailHeader, email);
        client.DefaultRequestHeaders.Add(TestAuthenticator.RolesHeader, string.Join(',', roles));
        client.DefaultRequestHeaders.Add(TestAuthenticator.ScopesHeader, string.Join(',', scopes));
        return client;
    }

    /// <summary>A new user of <paramref name="role"/> and a real key for them with <paramref name="scopes"/> (default: all their roles allow).</summary>
    public async Task<(HttpClient Client, UserDto User, ApiKeyIssued Key)> ClientWithKeyAsync(string role, params string[] scopes)
    {
        var created = await Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"{role}-{Guid.NewGuid():N}@portal.test",
            DisplayName = $"Test {role}",
            Password = "Passw0rd!",
            Roles = [role],
        });
        var user = created.Value;
        var key = await IssueKeyAsync(user.Id, scopes.Length == 0 ? ApiKeyService.ScopesAllowedFor([role]) : scopes);
        return (ClientWithKey(key.Key), user, key);
    }

    public async Task<ApiKeyIssued> IssueKeyAsync(Guid ownerId, IReadOnlyList<string> scopes, string? name = null)
    {
        var issued = await Get<ApiKeyService>().CreateAsync(Actor.System, new CreateApiKey
        {
            Name = name ?? $"test-{Guid.NewGuid():N}",
            Scopes = [.. scopes],
            OwnerId = ownerId,
        });
        return issued.IsSuccess ? issued.Value : throw new InvalidOperationException($"Could not issue a test key: {issued.Error}");
    }

    /// <summary>A client sending <paramref name="key"/> as <c>Authorization: Bearer</c>, or as <c>X-Api-Key</c>.</summary>
    public HttpClient ClientWithKey(string key, bool asHeader = false)
    {
        var client = AnonymousClient();
        if (asHeader) client.DefaultRequestHeaders.Add(ApiKeyDefaults.HeaderName, key);
        else client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public HttpClient AnonymousClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _keepAlive?.Dispose();
    }
}

/// <summary>Identity from test headers when they are present; otherwise the real API-key check.</summary>
public sealed class TestAuthenticator(ApiKeyAuthenticator real) : IApiKeyAuthenticator
{
    public const string UserHeader = "X-Test-User";
    public const string EmailHeader = "X-Test-Email";
    public const string RolesHeader = "X-Test-Roles";
    public const string ScopesHeader = "X-Test-Scopes";

    public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string scheme)
    {
        var headers = context.Request.Headers;
        if (!headers.TryGetValue(UserHeader, out var userId)) return real.AuthenticateAsync(context, scheme);
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, userId.ToString()),
            new(ClaimTypes.Email, headers[EmailHeader].ToString()),
            new(PortalClaims.KeyId, Guid.NewGuid().ToString()),
        };
        claims.AddRange(Split(RolesHeader).Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(Split(ScopesHeader).Select(s => new Claim(PortalClaims.Scope, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, scheme)));

        IEnumerable<string> Split(string header) =>
            headers[header].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
