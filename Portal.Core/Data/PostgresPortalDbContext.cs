using Microsoft.EntityFrameworkCore;

namespace Portal.Core.Data;

/// <summary>
/// <see cref="PortalDbContext"/> on PostgreSQL. EF Core picks migrations by context type, so this subclass owns
/// the PostgreSQL migration set (<c>Portal.Core/Migrations/PostgreSql</c>) while the SQLite set stays with
/// <see cref="PortalDbContext"/>. Services never see this type: they get it through
/// <c>IDbContextFactory&lt;PortalDbContext&gt;</c>.
/// </summary>
public sealed class PostgresPortalDbContext(DbContextOptions<PostgresPortalDbContext> options) : PortalDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configuration)
    {
        base.ConfigureConventions(configuration);
        // timestamp with time zone holds an instant; Npgsql writes only offset-0 DateTimeOffsets and throws on others.
        // Values from requests (an expiry sent as +02:00) are turned to UTC here, the one place every write passes.
        configuration.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcConverter>();
    }
}
