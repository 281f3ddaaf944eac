using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portal.Tests.Support;

/// <summary>
/// A misbehaving receiver on a loopback port, written on a bare socket: it reads each request, then answers as told —
/// a 200 promising 100 bytes and closing after 5, a reset, or a 200 held back until <see cref="Release"/>.
/// </summary>
public sealed class RawHttpReceiver : IAsyncDisposable
{
    public enum Behaviour
    {
        CutBody,
        Reset,
        HoldThenOk,
    }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Behaviour _behaviour;
    private readonly Task _loop;
    private int _requests;

    public RawHttpReceiver(Behaviour behaviour)
    {
        _behaviour = behaviour;
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hooks/secret-token-in-path";

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Completes when the first request has been read.</summary>
    public Task FirstRequest => _received.Task;

    public void Release() => _release.TrySetResult();

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(() => AnswerAsync(socket));
        }
    }

    private async Task AnswerAsync(Socket socket)
    {
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await ReadRequestAsync(stream);
            Interlocked.Increment(ref _requests);
            _received.TrySetResult();
            switch (_behaviour)
            {
                case Behaviour.CutBody:
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort"));
                    await stream.FlushAsync();
                    socket.Shutdown(SocketShutdown.Both);
                    break;
                case Behaviour.Reset:
                    socket.LingerState = new LingerOption(true, 0);
                    break;
                case Behaviour.HoldThenOk:
                    await _release.Task.WaitAsync(_stop.Token);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"));
                    await stream.FlushAsync();
                    break;
            }
        }
        catch (Exception)
        {
            // The client went away; nothing to do.
        }
        finally
        {
            socket.Close();
        }
    }

    private static async Task ReadRequestAsync(NetworkStream stream)
    {
        var buffer = new byte[65536];
        var text = new StringBuilder();
        int headerEnd;
        while ((headerEnd = text.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) return;
            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
        var headers = text.ToString()[..headerEnd];
        var length = headers.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("content-length", StringComparison.OrdinalIgnoreCase))
            .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
        var have = Encoding.ASCII.GetByteCount(text.ToString()) - headerEnd - 4;
        while (have < length)
        {
            var n = await stream.ReadAsync(buffer);
            if (n == 0) return;
            have += n;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _release.TrySetResult();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception)
        {
        }
        _listener.Dispose();
    }
}
