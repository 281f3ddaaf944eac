using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Portal.Core.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add … --context PortalDbContext</c> build the SQLite model without starting the web host.
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<PortalDbContext>
{
    public PortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortalDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <summary>
/// <c>dotnet ef migrations add … --context PostgresPortalDbContext --output-dir Migrations/PostgreSql</c>: the PostgreSQL
/// model. Adding a migration needs no server; <c>dotnet ef database update</c> would use this connection string.
/// </summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresPortalDbContext>
{
    public PostgresPortalDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPortalDbContext>()
            .UseNpgsql("Host=localhost;Port=5432;Database=portal_design_time;Username=postgres").Options);
}
