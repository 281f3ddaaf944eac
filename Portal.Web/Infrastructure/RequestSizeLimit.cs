using Microsoft.AspNetCore.Http.Features;

namespace Portal.Web.Infrastructure;

/// <summary>
/// API bodies above the limit are refused with 413 problem details before anything reads them. Kestrel enforces the
/// same limit on bodies without a Content-Length (chunked) as they stream.
/// </summary>
public static class RequestSizeLimit
{
    /// <summary>Kestrel's limit for every body, and the API's before it reads one.</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    public static string Detail(long maxBytes) => $"Request bodies are limited to {maxBytes / 1024} KiB.";

    public static IApplicationBuilder UseApiBodyLimit(this IApplicationBuilder app, long maxBytes) =>
        app.Use(async (http, next) =>
        {
            if (!ApiProblems.IsApi(http))
            {
                await next();
                return;
            }
            if (http.Request.ContentLength > maxBytes)
            {
                http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                // The body is never read, so the connection cannot carry another request after it: closed, and the
                // client told so, rather than the next request on it being read from the middle of this body.
                http.Response.Headers.Connection = "close";
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    // The title is the status's own ("Content Too Large"), as for a chunked body that Kestrel or LimitedStream stops.
                    ProblemDetails = { Status = 413, Detail = Detail(maxBytes) },
                });
                return;
            }
            // A request that cannot have a body (a GET without Content-Length or Transfer-Encoding) has nothing to count.
            if (http.Request.ContentLength is null && http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false)
                http.Request.Body = new LimitedStream(http.Request.Body, maxBytes);
            await next();
        });

    /// <summary>Counts what is read; past the limit it fails the way Kestrel does, so endpoints answer 413.</summary>
    private sealed class LimitedStream(Stream inner, long maxBytes) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Count(await inner.ReadAsync(buffer, ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int read)
        {
            _read += read;
            if (_read > maxBytes)
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
