namespace Portal.Core.Data;

/// <summary>The database engines Portal runs on (<c>Portal:Database:Provider</c>). Each has its own migration set.</summary>
public enum DatabaseProvider
{
    /// <summary><see cref="PortalDbContext"/>, migrations in <c>Portal.Core/Migrations</c>.</summary>
    Sqlite,

    /// <summary><see cref="PostgresPortalDbContext"/>, migrations in <c>Portal.Core/Migrations/PostgreSql</c>.</summary>
    PostgreSql,
}

public static class DatabaseProviders
{
    /// <summary>
    /// <c>Sqlite</c> (also when empty) or <c>PostgreSQL</c> (also <c>Postgres</c>, <c>Npgsql</c>), in any case.
    /// Anything else stops the start with a message naming the accepted values.
    /// </summary>
    public static DatabaseProvider Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => DatabaseProvider.Sqlite,
        "postgresql" or "postgres" or "npgsql" => DatabaseProvider.PostgreSql,
        _ => throw new InvalidOperationException(
            $"Portal:Database:Provider '{value}' is not supported; use 'Sqlite' (the default) or 'PostgreSQL'."),
    };
}
