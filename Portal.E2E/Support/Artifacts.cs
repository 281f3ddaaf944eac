namespace Portal.E2E.Support;

/// <summary>Where screenshots go: <c>artifacts/screenshots</c> at the repository root (gitignored), kept after the run.</summary>
public static class Artifacts
{
    public static string ScreenshotDirectory { get; } = CreateScreenshotDirectory();

    private static string CreateScreenshotDirectory()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        var root = dir?.FullName ?? AppContext.BaseDirectory;
        var path = Path.Combine(root, "artifacts", "screenshots");
        Directory.CreateDirectory(path);
        return path;
    }
}
