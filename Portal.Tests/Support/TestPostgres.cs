using Npgsql;

namespace Portal.Tests.Support;

/// <summary>
/// A database of its own on the test PostgreSQL server, dropped on dispose. The server comes from
/// <c>PORTAL_TEST_POSTGRES</c> (a connection string without a database); when it cannot be reached the test fails
/// and says how to start one, because a skipped PostgreSQL test would hide a broken provider.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string ServerVariable = "PORTAL_TEST_POSTGRES";
    public const string DefaultServer = "Host=localhost;Port=5432;Username=postgres;Password=portal-test";

    public static string Server =>
        Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } configured ? configured : DefaultServer;

    private readonly string _name;

    private TestPostgres(string name, string connectionString)
    {
        _name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The new database's connection string.</summary>
    public string ConnectionString { get; }

    public static async Task<TestPostgres> CreateAsync()
    {
        var name = $"portal_test_{Guid.NewGuid():N}";
        // UTF-8 with the C collation whatever the server's defaults: sorting and lower() must not depend on the machine.
        await ExecuteAsync($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'");
        return new TestPostgres(name, new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        // The pool's idle connections to this database would otherwise stay open (and FORCE would cut them).
        await using (var connection = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(connection);
        await ExecuteAsync($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string sql)
    {
        var admin = new NpgsqlConnectionStringBuilder(Server) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL tests need a server at {admin.Host}:{admin.Port} (user {admin.Username}) and could not connect: {e.Message}. " +
                "On Debian: `apt-get install -y postgresql`, `pg_ctlcluster 15 main start`, " +
                "`runuser -u postgres -- psql -c \"ALTER USER postgres PASSWORD 'portal-test'\"` (./test.sh does all three), " +
                $"or set {ServerVariable} to another server's connection string (no database; each test class creates and drops its own).", e);
        }
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
