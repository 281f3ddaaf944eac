using System.Diagnostics;
using System.Globalization;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Verification;
using Yarp.ReverseProxy.Forwarder;

namespace Portal.Web.Features.Gateway;

/// <summary>
/// What the upstream gets and the caller gets back, for one call: the request's headers as sent (YARP's defaults drop
/// hop-by-hop ones) without the caller's credentials or anything posing as the gateway's own headers; the
/// <c>X-Forwarded-*</c> and <c>X-Portal-*</c> headers; the product's upstream credential. The answer's headers as the
/// upstream sent them, with the plan's <c>RateLimit</c> headers over any of the upstream's.
/// </summary>
public sealed class GatewayTransformer(GatewayRoute route, string path, GatewayVerdict verdict) : HttpTransformer
{
    private long _sentAt;

    /// <summary>From sending until the answer's headers arrived; null when no answer came.</summary>
    public int? UpstreamLatencyMs { get; private set; }

    private const string PortalHeaderPrefix = "X-Portal-";

    private static readonly string[] Removed =
        [.. GatewayRules.ReservedHeaders, GatewayMiddleware.TryItHeader, "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"];

    public override async ValueTask TransformRequestAsync(HttpContext http, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(http, proxyRequest, destinationPrefix, cancellationToken);
        proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, path, http.Request.QueryString);
        var headers = proxyRequest.Headers;
        foreach (var name in Removed) headers.Remove(name);
        // Any X-Portal-* the caller sent, not only the names the gateway sets today: the upstream trusts that family as
        // the gateway's own word about the caller.
        List<string>? posing = null;
        foreach (var sent in headers)
            if (sent.Key.StartsWith(PortalHeaderPrefix, StringComparison.OrdinalIgnoreCase)) (posing ??= []).Add(sent.Key);
        if (posing is not null) foreach (var name in posing) headers.Remove(name);

        // Appended to what a proxy in front of the portal said, as X-Forwarded-For is meant to be.
        var forwardedFor = http.Request.Headers["X-Forwarded-For"].ToString();
        var client = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor.Length == 0 ? client : $"{forwardedFor}, {client}");
        headers.TryAddWithoutValidation("X-Forwarded-Proto", http.Request.Scheme);
        headers.TryAddWithoutValidation("X-Forwarded-Host", http.Request.Host.Value);

        var result = verdict.Result;
        if (result.ApplicationId is { } applicationId) headers.TryAddWithoutValidation("X-Portal-Application-Id", applicationId.ToString());
        if (verdict.AccountId is { } accountId) headers.TryAddWithoutValidation("X-Portal-Account-Id", accountId.ToString());
        if (result.Plan is { } plan) headers.TryAddWithoutValidation("X-Portal-Plan", plan.Name);
        if (result.SubscriptionId is { } subscriptionId) headers.TryAddWithoutValidation("X-Portal-Subscription-Id", subscriptionId.ToString());

        if (route.CredentialHeader is { } header && route.CredentialValue is { } value)
        {
            headers.Remove(header);
            if (!headers.TryAddWithoutValidation(header, value)) proxyRequest.Content?.Headers.TryAddWithoutValidation(header, value);
        }
        _sentAt = Stopwatch.GetTimestamp();
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext http, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is not null) UpstreamLatencyMs = (int)Stopwatch.GetElapsedTime(_sentAt).TotalMilliseconds;
        var proceed = await base.TransformResponseAsync(http, proxyResponse, cancellationToken);
        if (proxyResponse is not null)
        {
            http.Response.Headers.Remove("RateLimit-Policy");
            http.Response.Headers.Remove("RateLimit");
            GatewayMiddleware.SetLimitHeaders(http.Response, verdict);
        }
        return proceed;
    }
}

/// <summary>The request body as read from the caller, counted, and cut off past the product's limit.</summary>
public sealed class CountingRequestStream(Stream inner, long limit) : Stream
{
    public long BytesRead { get; private set; }

    /// <summary>The caller sent more than the limit: the read that crossed it failed.</summary>
    public bool Exceeded { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        return Count(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead > limit)
        {
            Exceeded = true;
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"The request body is larger than the product's limit of {limit} bytes."));
        }
        return read;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>The response body as written to the caller, counted.</summary>
public sealed class CountingResponseStream(Stream inner) : Stream
{
    public long BytesWritten { get; private set; }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        BytesWritten += buffer.Length;
        return inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        BytesWritten += count;
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override void Flush() => inner.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
