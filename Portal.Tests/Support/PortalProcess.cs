using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Portal.Tests.Support;

/// <summary>
/// The built Portal.Web run as a process of its own (<c>dotnet Portal.Web.dll</c>) on a free loopback port, for what
/// only a real process shows: <see cref="KillHard"/> is <c>kill -9</c>, no shutdown code runs.
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process _process;

    private PortalProcess(Process process, int port) => (_process, Port) = (process, port);

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts the app with these <c>Portal__…</c> settings and waits until <c>/healthz</c> answers.</summary>
    public static async Task<PortalProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        var dll = WebDll();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var portal = new PortalProcess(process, port);
        using var http = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"Portal.Web exited with {process.ExitCode} before answering");
            try
            {
                if ((await http.GetAsync("healthz")).IsSuccessStatusCode) return portal;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(120))
            {
                await portal.DisposeAsync();
                throw new InvalidOperationException("Portal.Web did not answer /healthz within 120 s");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// <c>kill -TERM</c>, as a service manager or container runtime stops the portal: the host runs its shutdown (the
    /// usage writer drains, quota totals flush) and exits. Fails when the process has not exited within <paramref name="within"/>.
    /// </summary>
    public async Task StopGracefullyAsync(TimeSpan within)
    {
        if (_process.HasExited) return;
        if (Kill(_process.Id, SigTerm) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary><c>kill -9</c>: the process ends at once, without flushing anything.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false); // SIGKILL on Linux
        _process.WaitForExit(10_000);
    }

    /// <summary>Portal.Web.dll as built beside the tests (same configuration), found from the solution folder.</summary>
    private static string WebDll()
    {
        var testBin = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var dir = testBin;
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Portal.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("Portal.sln not found above " + testBin.FullName);
        var configuration = testBin.Parent!.Name; // …/bin/<Configuration>/<tfm>
        var dll = Path.Combine(dir.FullName, "Portal.Web", "bin", configuration, testBin.Name, "Portal.Web.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"Build Portal.Web first: {dll} is missing");
    }

    /// <summary>A loopback port free right now (for a listener the test configures itself).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        KillHard();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
