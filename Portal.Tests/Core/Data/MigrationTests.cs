using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Data;

/// <summary>
/// Each provider's migration set builds its database from empty and matches the model: a model change without a
/// migration (for either set) fails here, not on a server's first start.
/// </summary>
public sealed class MigrationTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite, typeof(PortalDbContext))]
    [InlineData(DatabaseProvider.PostgreSql, typeof(PostgresPortalDbContext))]
    public async Task MigrationsApplyOnAnEmptyDatabase_AndTheModelHasNoChangesWithoutAMigration(DatabaseProvider provider, Type contextType)
    {
        await using var database = await TestDatabase.CreateAsync(provider: provider);
        await using var db = await database.OpenAsync();

        Assert.Equal(contextType, db.GetType());
        Assert.NotEmpty(db.Database.GetAppliedMigrations());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(),
            $"The model has changes the {provider} migrations do not have: add a migration (docs/development.md, \"Migrations\").");
        Assert.True(await db.Roles.AnyAsync());
        Assert.Equal(TestDatabase.AdminEmail, (await db.Users.SingleAsync()).Email);
    }

    [Fact]
    public async Task EachProviderOnlySeesItsOwnMigrations()
    {
        await using var sqlite = await TestDatabase.CreateAsync(provider: DatabaseProvider.Sqlite);
        await using var postgres = await TestDatabase.CreateAsync(provider: DatabaseProvider.PostgreSql);
        await using var sqliteDb = await sqlite.OpenAsync();
        await using var postgresDb = await postgres.OpenAsync();

        var sqliteMigrations = sqliteDb.Database.GetMigrations().ToList();
        var postgresMigrations = postgresDb.Database.GetMigrations().ToList();

        Assert.Contains(sqliteMigrations, m => m.EndsWith("_Foundation"));
        Assert.Empty(sqliteMigrations.Intersect(postgresMigrations));
        Assert.Contains(postgresMigrations, m => m.EndsWith("_Initial"));
    }
}
