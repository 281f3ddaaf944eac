using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Data;

/// <summary>The web host started with <c>Portal__Database__Provider=PostgreSQL</c>: migrated on start, healthy, serving keys.</summary>
public sealed class PostgresHostTests : IAsyncLifetime
{
    private TestPostgres _database = null!;
    private PortalApiFactory _app = null!;

    public async ValueTask InitializeAsync()
    {
        _database = await TestPostgres.CreateAsync();
        _app = new PortalApiFactory(DatabaseProvider.PostgreSql, _database.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Healthz_AKeyAuthenticatedCall_ItsUsage_AndIdentity_RunOnPostgreSql()
    {
        var health = await _app.AnonymousClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        var (client, _, key) = await _app.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);

        await _app.Get<UsageWriter>().DrainAsync();
        await using (var db = await _app.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            Assert.IsType<PostgresPortalDbContext>(db);
            Assert.Equal(1, await db.UsageEvents.CountAsync(e => e.KeyId == key.Id));
        }
        // Sign-in goes through Identity's store, which takes the scoped PortalDbContext.
        using var scope = _app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        Assert.NotNull(await users.FindByEmailAsync(TestDatabase.AdminEmail));
    }
}
