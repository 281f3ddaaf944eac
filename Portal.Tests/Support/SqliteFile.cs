using Microsoft.Data.Sqlite;
using Portal.Web.Host;

namespace Portal.Tests.Support;

/// <summary>
/// A SQLite database in a file of its own, as production keeps it (WAL, a connection per operation, writers waiting on
/// each other's locks), for tests about concurrency, where a shared in-memory database locks differently. Deleted,
/// with its WAL files, on dispose.
/// </summary>
public sealed class SqliteFile : IAsyncDisposable, IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portal-test-{Guid.NewGuid():N}.db");

    public string FilePath => _path;

    public string ConnectionString => $"Data Source={_path}";

    public void Dispose()
    {
        // Pooled connections keep the file open (and the WAL files alive).
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
            if (File.Exists(file)) File.Delete(file);
        // The key ring the web host keeps next to a database file (KeyRingPlan.DefaultDirectory).
        if (Directory.Exists(_path + "-keys")) Directory.Delete(_path + "-keys", recursive: true);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
