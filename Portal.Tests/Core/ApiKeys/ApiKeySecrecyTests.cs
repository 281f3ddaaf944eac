using System.Collections.Concurrent;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.ApiKeys;

/// <summary>After keys are issued, used, regenerated and revoked, neither the database file nor any log line holds a full key.</summary>
public sealed class ApiKeySecrecyTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portal-secrecy-{Guid.NewGuid():N}.db");
    private readonly CapturingLoggerProvider _logs = new();
    private ServiceProvider _services = null!;

    public async ValueTask InitializeAsync()
    {
        var services = new ServiceCollection();
        // Everything, at every level, including EF Core's SQL: whatever could leak is captured.
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero)));
        services.AddPortalCore($"Data Source={_path}");
        services.AddOptions<Microsoft.AspNetCore.Identity.IdentityOptions>().Configure(o => o.Password.RequiredLength = 8);
        services.Configure<PortalOptions>(o =>
        {
            o.Bootstrap.AdminEmail = TestDatabase.AdminEmail;
            o.Bootstrap.AdminPassword = TestDatabase.AdminPassword;
        });
        _services = services.BuildServiceProvider();
        await _services.GetRequiredService<DatabaseInitializer>().InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
            if (File.Exists(file)) File.Delete(file);
    }

    [Fact]
    public async Task DatabaseFileAndLogs_NeverContainAFullKey()
    {
        var keys = _services.GetRequiredService<ApiKeyService>();
        var root = await RootAsync();
        var secrets = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var issued = (await keys.CreateAsync(root, new CreateApiKey { Name = $"key-{i}", Scopes = [Scopes.Read, Scopes.Write] })).Value;
            secrets.Add(issued.Key);
            Assert.True((await keys.AuthenticateAsync(issued.Key)).IsValid);
            _services.GetRequiredService<UsageRecorder>().Record(new UsageRecord(DateTimeOffset.UtcNow, issued.Id, root.UserId, "GET", "/api/v1/me/", 200, 1));
            var renewed = (await keys.RegenerateAsync(root, issued.Id, new RegenerateApiKey { GracePeriodMinutes = 5 })).Value;
            secrets.Add(renewed.Key);
            Assert.True((await keys.AuthenticateAsync(renewed.Key)).IsValid);
        }
        await keys.RevokeAsync(root, (await keys.ListAsync(root, new ApiKeyQuery())).Value.Items[0].Id);
        await _services.GetRequiredService<UsageWriter>().DrainAsync();
        // Make sure pages reach the files we read.
        await using (var db = await _services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.ExecuteSqlRawAsync(db.Database, "PRAGMA wal_checkpoint(FULL);");

        var stored = new StringBuilder();
        foreach (var file in new[] { _path, _path + "-wal" })
        {
            if (!File.Exists(file)) continue;
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream, Encoding.Latin1);
            stored.Append(await reader.ReadToEndAsync());
        }
        var logText = string.Join('\n', _logs.Lines);
        Assert.True(stored.Length > 0);
        Assert.NotEmpty(_logs.Lines);
        foreach (var secret in secrets)
        {
            var randomPart = secret[4..^6];
            Assert.DoesNotContain(randomPart, stored.ToString());
            Assert.DoesNotContain(randomPart, logText);
        }
        // A positive control: what is stored is the hash, so the files read are the right ones.
        Assert.Contains(ApiKeyFormat.Hash(secrets[^1]), stored.ToString());
    }

    private async Task<Actor> RootAsync()
    {
        var users = _services.GetRequiredService<Portal.Core.Features.Users.UserService>();
        var root = (await users.ListAsync(Actor.System, new Portal.Core.Features.Users.UserQuery { Search = TestDatabase.AdminEmail })).Value.Items.Single();
        return new Actor(root.Id, root.Email, root.Roles);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose() { }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
