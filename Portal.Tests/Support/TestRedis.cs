using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Tests.Support;

/// <summary>
/// A redis-server of the test's own on a free loopback port, without persistence (<c>--save '' --appendonly no</c>),
/// killed on dispose. <see cref="RestartAsync"/> kills it and starts an empty one on the same port: a Redis loss.
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    private Process? _process;

    private TestRedis(int port) => Port = port;

    public int Port { get; }

    /// <summary>What <c>Portal:Redis:ConnectionString</c> takes.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<TestRedis> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var redis = new TestRedis(FreePort());
            try
            {
                await redis.LaunchAsync();
                return redis;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Another test took the port between the probe and the launch.
                await redis.DisposeAsync();
            }
        }
    }

    public async Task RestartAsync()
    {
        Kill();
        await LaunchAsync();
    }

    /// <summary>Kills it and leaves it down (an outage) until <see cref="StartAgainAsync"/>.</summary>
    public void Stop() => Kill();

    public Task StartAgainAsync() => LaunchAsync();

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
            start.ArgumentList.Add(arg);
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("The Redis tests need redis-server on the PATH (Debian: `apt-get install -y redis-server`).", e);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited ({_process.ExitCode}) on port {Port}");
            if (await PingsAsync()) return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server did not answer on port {Port}");
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Kill()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }
}
