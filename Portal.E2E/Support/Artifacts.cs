namespace Portal.E2E.Support;

/// <summary>
/// Where screenshots go: <c>artifacts/screenshots</c> at the repository root (gitignored), kept after the run; and
/// <c>docs/</c>, for the pictures the README shows, so they follow the pages instead of going stale.
/// </summary>
public static class Artifacts
{
    private static readonly string RepositoryRoot = FindRepositoryRoot();

    public static string ScreenshotDirectory { get; } = CreateScreenshotDirectory();

    /// <summary>The repository's <c>docs/</c> folder; the README links the <c>screenshot-*.png</c> files in it.</summary>
    public static string DocsDirectory { get; } = Path.Combine(RepositoryRoot, "docs");

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        return dir?.FullName ?? AppContext.BaseDirectory;
    }

    private static string CreateScreenshotDirectory()
    {
        var path = Path.Combine(RepositoryRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }
}
