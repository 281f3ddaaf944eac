using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Data;

/// <summary>The SQLite database and its WAL and shared-memory files are readable by the service user only.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SqliteFilesTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task ANewDatabase_AndItsWalAndShm_Are0600()
    {
        await using var database = await TestDatabase.CreateAsync(provider: DatabaseProvider.Sqlite, onFile: true);
        await using (var db = await database.OpenAsync())
        {
            // Keep a connection open, so the WAL and shared-memory files exist while they are looked at.
            await db.Database.OpenConnectionAsync();
            await db.Database.ExecuteSqlRawAsync("UPDATE \"Organisation\" SET \"Name\" = \"Name\"");
            var path = PathOf(database);

            Assert.True(File.Exists(path + "-wal") && File.Exists(path + "-shm"));
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
                Assert.Equal(OwnerOnly, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public void AnExistingWiderDatabaseFile_IsNarrowedTo0600()
    {
        using var file = new SqliteFile();
        File.WriteAllBytes(file.FilePath, []);
        File.SetUnixFileMode(file.FilePath, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        SqliteFiles.RestrictToOwner(file.ConnectionString);

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(file.FilePath));
    }

    private static string PathOf(TestDatabase database) =>
        new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
}
