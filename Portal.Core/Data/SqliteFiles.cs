using Microsoft.Data.Sqlite;

namespace Portal.Core.Data;

/// <summary>
/// The SQLite database holds every hash, audit entry and encrypted secret: its file, WAL and shared-memory files are
/// the service user's only (0600). SQLite gives its WAL and SHM files the database file's own mode, so the database is
/// created 0600 before SQLite opens it, and files made earlier (by an older version, by hand) are narrowed.
/// </summary>
public static class SqliteFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Nothing for an in-memory database or on Windows (whose files inherit the directory's ACL).</summary>
    public static void RestrictToOwner(string? connectionString)
    {
        if (OperatingSystem.IsWindows() || connectionString is null) return;
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:") return;
        var path = Path.GetFullPath(builder.DataSource);
        if (!File.Exists(path) && Directory.Exists(Path.GetDirectoryName(path)))
        {
            try
            {
                using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first: narrowed below like any existing file.
            }
        }
        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" })
            if (File.Exists(file) && File.GetUnixFileMode(file) != OwnerOnly)
                File.SetUnixFileMode(file, OwnerOnly);
    }
}
