using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Web.Features.Usage;
using Portal.Web.Infrastructure;
using Yarp.ReverseProxy.Forwarder;
using Portal.Web.Authentication;
using Portal.Core.Common;

namespace Portal.Web.Features.Gateway;

/// <summary>
/// <c>ANY {prefix}/{product-slug}/{**path}</c>: finds the product's route, has verification decide on the presented
/// application key (the same rules as <c>POST /api/v1/keys/verify</c>, in process), and only then forwards through
/// YARP's <see cref="IHttpForwarder"/>, bodies streamed both ways. Every call becomes one usage event.
/// </summary>
/// <remarks>
/// The forwarder is used directly rather than through YARP's route table and an <c>IProxyConfigProvider</c>: each
/// call needs the product's own settings (timeout, body limit, credential) and a verdict before any byte goes out, so
/// the route is a dictionary lookup here, a product change is one <see cref="GatewayRoutes.Reload"/>, and there is no
/// route/cluster rebuild or endpoint-routing pass per request.
/// </remarks>
public sealed class GatewayMiddleware
{
    /// <summary>The header a "Try it" request carries instead of a key (see <see cref="TryItTickets"/>).</summary>
    public const string TryItHeader = "X-Portal-Try-It";

    private static readonly string NotFoundCode = VerificationService.CodeText(VerifyCode.NotFound);

    /// <summary>The outcome of a call refused for its declared body length, before any verification.</summary>
    public const string BodyTooLargeCode = "BODY_TOO_LARGE";

    private readonly RequestDelegate _next;
    private readonly GatewayRoutes _routes;
    private readonly VerificationService _verification;
    private readonly IHttpForwarder _forwarder;
    private readonly GatewayClient _client;
    private readonly UsageRecorder _usage;
    private readonly TryItTickets _tickets;
    private readonly TimeProvider _clock;
    private readonly PathString _prefix;
    private readonly PathString _barePrefix;
    private readonly string? _bareUpstream;
    private readonly HashSet<int> _dedicatedPorts;

    public GatewayMiddleware(RequestDelegate next, GatewayRoutes routes, VerificationService verification, IHttpForwarder forwarder,
        GatewayClient client, UsageRecorder usage, TryItTickets tickets, IOptions<PortalOptions> options, TimeProvider clock)
    {
        (_next, _routes, _verification, _forwarder, _client, _usage, _tickets, _clock) = (next, routes, verification, forwarder, client, usage, tickets, clock);
        var settings = options.Value.Gateway;
        _prefix = PrefixOf(settings);
        _barePrefix = new PathString(_prefix.Value + "-bare");
        _bareUpstream = string.IsNullOrWhiteSpace(settings.BareRouteUpstream) ? null : settings.BareRouteUpstream.TrimEnd('/');
        _dedicatedPorts = [.. (settings.Urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => BindingAddress.Parse(u.Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal)).Port)];
    }

    public static PathString PrefixOf(GatewayOptions settings) => new("/" + settings.PathPrefix.Trim().Trim('/'));

    public Task InvokeAsync(HttpContext http)
    {
        if (http.Request.Path.StartsWithSegments(_prefix, out var rest)) return ForwardAsync(http, rest.Value ?? "");
        if (_bareUpstream is not null && http.Request.Path.StartsWithSegments(_barePrefix, out var bare)) return BareAsync(http, bare);
        // A dedicated gateway listener serves nothing else.
        if (_dedicatedPorts.Count > 0 && _dedicatedPorts.Contains(http.Connection.LocalPort))
            return Problem(http, StatusCodes.Status404NotFound, "NOT_FOUND", "Not found",
                $"This address serves only the gateway: call {_prefix}/{{product-slug}}/….");
        return _next(http);
    }

    /// <summary>One call's facts, gathered as it goes and recorded once at the end.</summary>
    private sealed class Call
    {
        public long Started;
        public string Route = "";
        public string Path = "";
        public Guid? KeyId, OwnerUserId, ApplicationId, AccountId, ProductId, PlanId;
        public string? Outcome;
        public int? UpstreamLatencyMs;
        /// <summary>The limit that refused the call (RATE_LIMITED, QUOTA_EXCEEDED), for the request log's explanation.</summary>
        public LimitState? Limit;
        public CountingRequestStream? RequestBody;
        public CountingResponseStream? ResponseBody;
    }

    private async Task ForwardAsync(HttpContext http, string rest)
    {
        var call = new Call { Started = Stopwatch.GetTimestamp() };
        var slash = rest.Length > 1 ? rest.IndexOf('/', 1) : -1;
        var slug = rest.Length <= 1 ? "" : slash < 0 ? rest[1..] : rest[1..slash];
        var path = slash < 0 ? "/" : rest[slash..];
        call.Route = $"{_prefix}/{slug}/{{**path}}";
        call.Path = GatewayRules.LoggedPath(_prefix + rest, http.Request.QueryString.Value);
        try
        {
            await DecideAndForwardAsync(http, call, slug, path);
        }
        finally
        {
            if (slug.Length > 0) Record(http, call);
        }
    }

    private async Task DecideAndForwardAsync(HttpContext http, Call call, string slug, string path)
    {
        var ct = http.RequestAborted;
        var route = slug.Length == 0 ? null : await _routes.FindAsync(slug, ct);
        // Every gateway row carries the code it was answered with, so the overview's outcome figures and top products
        // count refusals made before (or without) a verdict too; a verdict below replaces it with its own code.
        call.Outcome = NotFoundCode;
        if (route is null)
        {
            await Problem(http, StatusCodes.Status404NotFound, "NOT_FOUND", "No such product",
                $"No product '{slug}' is served by the gateway. Check the slug on the product's page in the catalog.");
            return;
        }
        call.ProductId = route.Published ? route.ProductId : null;
        // Before the verdict, so a body that is too large by its declared length costs no quota.
        if (http.Request.ContentLength > route.MaxRequestBodyBytes)
        {
            call.Outcome = BodyTooLargeCode;
            await BodyTooLarge(http, route, null);
            return;
        }

        GatewayVerdict verdict;
        var presented = ApiKeyAuthenticator.ReadCredentials(http.Request);
        if (http.Request.Headers.TryGetValue(TryItHeader, out var ticket) && _tickets.Read(ticket.ToString(), route.Slug) is { } tryKeyId)
            verdict = await _verification.CheckGatewayCallByKeyIdAsync(tryKeyId, route.Slug, ct);
        else if (presented is { } credentials)
            verdict = await _verification.CheckGatewayCallAsync(credentials.Key,
                credentials.BasicUserName is { } user ? Guid.TryParse(user, out var id) ? id : Guid.Empty : null, route.Slug, ct);
        else
        {
            if (!route.Published) await NoSuchProduct(http, slug);
            else await Unauthorized(http, "NOT_FOUND", "No API key was sent. Send your application key as 'Authorization: Bearer <key>', 'X-Api-Key: <key>' or HTTP Basic (key id : key).");
            return;
        }

        var result = verdict.Result;
        (call.KeyId, call.OwnerUserId, call.ApplicationId, call.AccountId) = (result.KeyId, verdict.OwnerUserId, result.ApplicationId, verdict.AccountId);
        call.ProductId = result.ProductId ?? call.ProductId;
        call.PlanId = result.Plan?.Id;
        call.Outcome = VerificationService.CodeText(result.Code);
        var refusedKey = verdict.KeyRefused && result.Code is VerifyCode.NotFound or VerifyCode.Revoked or VerifyCode.Expired;
        switch (result.Code)
        {
            case VerifyCode.Valid:
                break;
            // A draft is not revealed to a caller it does not serve: no key, a refused key or no subscription is "no such product".
            case VerifyCode.NotFound or VerifyCode.Revoked or VerifyCode.Expired when !route.Published:
            case VerifyCode.NotFound when !refusedKey:
                await NoSuchProduct(http, slug);
                return;
            case VerifyCode.NotFound:
                await Unauthorized(http, "NOT_FOUND", "The API key is not known. Check that you copied the whole application key; a replaced key works only during its grace period.");
                return;
            case VerifyCode.Revoked:
                await Unauthorized(http, "REVOKED", "This API key was revoked. Create a new key for your application on its page in the portal.");
                return;
            case VerifyCode.Expired:
                await Unauthorized(http, "EXPIRED", "This API key has expired. Create a new key for your application on its page in the portal.");
                return;
            case VerifyCode.Disabled:
                await Problem(http, StatusCodes.Status403Forbidden, "DISABLED", "Disabled",
                    "The key's application or account is suspended. Ask your account's owner or the portal's administrators.");
                return;
            case VerifyCode.NotSubscribed:
                await Problem(http, StatusCodes.Status403Forbidden, "NOT_SUBSCRIBED", "Not subscribed",
                    $"Your application has no approved subscription to '{route.Slug}'. Subscribe on the product's page and wait for approval.");
                return;
            case VerifyCode.RateLimited or VerifyCode.QuotaExceeded:
                call.Limit = result.Code == VerifyCode.RateLimited ? result.Ratelimit : result.Quota;
                SetLimitHeaders(http.Response, verdict);
                var wait = result.RetryAfter ?? 1;
                http.Response.Headers.RetryAfter = wait.ToString(CultureInfo.InvariantCulture);
                await Problem(http, StatusCodes.Status429TooManyRequests, call.Outcome, result.Code == VerifyCode.RateLimited ? "Rate limited" : "Quota exceeded",
                    result.Code == VerifyCode.RateLimited
                        ? $"Your plan's rate limit is reached. Retry after {wait} s, or choose a plan with a higher limit."
                        : $"Your plan's quota for this period is used up. It renews in {wait} s; a plan with a larger quota lifts it now.",
                    clear: false);
                return;
            default:
                await Unauthorized(http, call.Outcome, "The API key was refused.");
                return;
        }

        await SendAsync(http, call, route, path, verdict);
    }

    private async Task SendAsync(HttpContext http, Call call, GatewayRoute route, string path, GatewayVerdict verdict)
    {
        // The product's limit replaces the server's (Kestrel's default is 30 MB), counted on the stream itself so a
        // chunked body without a length is held to it as well.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = null;
        var originalRequestBody = http.Request.Body;
        var originalResponseBody = http.Response.Body;
        call.RequestBody = new CountingRequestStream(originalRequestBody, route.MaxRequestBodyBytes);
        call.ResponseBody = new CountingResponseStream(originalResponseBody);
        http.Request.Body = call.RequestBody;
        http.Response.Body = call.ResponseBody;
        var transformer = new GatewayTransformer(route, path, verdict);
        try
        {
            var error = await _forwarder.SendAsync(http, route.Upstream.AbsoluteUri, _client.Invoker,
                new ForwarderRequestConfig { ActivityTimeout = route.Timeout }, transformer);
            call.UpstreamLatencyMs = transformer.UpstreamLatencyMs;
            if (error == ForwarderError.None) return;
            await FailedAsync(http, call, route, verdict, error);
        }
        finally
        {
            http.Request.Body = originalRequestBody;
            http.Response.Body = originalResponseBody;
        }
    }

    private async Task FailedAsync(HttpContext http, Call call, GatewayRoute route, GatewayVerdict verdict, ForwarderError error)
    {
        if (http.Response.HasStarted) return; // the forwarder has aborted the answer: nothing more can be said
        var exception = http.Features.Get<IForwarderErrorFeature>()?.Exception;
        if (call.RequestBody!.Exceeded)
        {
            await BodyTooLarge(http, route, verdict);
            return;
        }
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled)
        {
            // The caller went away: nobody reads an answer. 499 as nginx logs it.
            http.Response.StatusCode = 499;
            return;
        }
        http.Response.Clear();
        SetLimitHeaders(http.Response, verdict);
        if (error == ForwarderError.RequestTimedOut)
            await Problem(http, StatusCodes.Status504GatewayTimeout, "UPSTREAM_TIMEOUT", "Upstream timed out",
                $"The product's backend did not answer within {route.Timeout.TotalSeconds:0} s. Try again later; if it persists, tell the product's team.", clear: false);
        else if (Find<RefusedUpstreamException>(exception) is { } refused)
            await Problem(http, StatusCodes.Status502BadGateway, "UPSTREAM_REFUSED", "Upstream address refused",
                "The product's upstream address is not allowed. The portal's administrators must change the product's upstream URL.", clear: false);
        else
            await Problem(http, StatusCodes.Status502BadGateway, "UPSTREAM_UNREACHABLE", "Upstream unreachable",
                "The product's backend could not be reached or broke off its answer. Try again later; if it persists, tell the product's team.", clear: false);
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T found) return found;
        return null;
    }

    private Task BodyTooLarge(HttpContext http, GatewayRoute route, GatewayVerdict? verdict)
    {
        http.Response.Clear();
        if (verdict is not null) SetLimitHeaders(http.Response, verdict);
        // The rest of the body is not read: the connection closes after this answer.
        http.Response.Headers.Connection = "close";
        return Problem(http, StatusCodes.Status413PayloadTooLarge, BodyTooLargeCode, "Request body too large",
            $"This product accepts request bodies of up to {route.MaxRequestBodyBytes:N0} bytes. Send a smaller body.", clear: false);
    }

    private Task NoSuchProduct(HttpContext http, string slug) =>
        Problem(http, StatusCodes.Status404NotFound, "NOT_FOUND", "No such product",
            $"No product '{slug}' is served by the gateway. Check the slug on the product's page in the catalog.");

    private static Task Unauthorized(HttpContext http, string code, string detail)
    {
        http.Response.Headers.WWWAuthenticate = $"Bearer realm=\"portal-gateway\", Basic realm=\"portal-gateway\"";
        return Problem(http, StatusCodes.Status401Unauthorized, code, "Unauthorized", detail, clear: false);
    }

    /// <summary>
    /// <c>RateLimit-Policy</c> and <c>RateLimit</c> (IETF httpapi ratelimit-headers draft): one item per limit the
    /// plan has, <c>"rate"</c> (q per w seconds) and <c>"quota"</c> (q per the current period's seconds), each with
    /// what remains (r) and the seconds until it resets (t).
    /// </summary>
    internal static void SetLimitHeaders(HttpResponse response, GatewayVerdict verdict)
    {
        var result = verdict.Result;
        RateLimitItem? rate = null, quota = null;
        if (result.Ratelimit is { Limit: { } rateLimit } ratelimit && verdict.RateLimitWindowSeconds is { } window)
            rate = new RateLimitItem("rate", rateLimit, window, ratelimit.Remaining ?? 0, ratelimit.Reset ?? 0);
        if (result.Quota is { Limit: { } quotaLimit } quotaState && verdict.QuotaPeriodSeconds is { } period)
            quota = new RateLimitItem("quota", quotaLimit, period, quotaState.Remaining ?? 0, quotaState.Reset ?? 0);
        if (rate is { } first) RateLimitHeaders.Write(response, first, quota);
        else if (quota is { } only) RateLimitHeaders.Write(response, only);
    }

    /// <summary>A problem details answer with the gateway's <c>code</c>; written directly, the portal's error pages never see it.</summary>
    internal static async Task Problem(HttpContext http, int status, string code, string title, string detail, bool clear = true)
    {
        if (clear) http.Response.Clear();
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/problem+json";
        var body = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("type", $"https://httpstatuses.io/{status}");
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            writer.WriteString("code", code);
            writer.WriteString("instance", http.Request.Path.Value);
            writer.WriteEndObject();
        }
        http.Response.ContentLength = body.WrittenCount;
        // Through the body stream, which may be the gateway's counting stream over the real one.
        await http.Response.Body.WriteAsync(body.WrittenMemory, http.RequestAborted);
    }

    private void Record(HttpContext http, Call call) =>
        _usage.Record(new UsageRecord(_clock.GetUtcNow(), call.KeyId, call.OwnerUserId, http.Request.Method, call.Route,
            http.Response.StatusCode, (int)Stopwatch.GetElapsedTime(call.Started).TotalMilliseconds,
            call.ApplicationId, call.ProductId, call.PlanId, call.Outcome, UsageSource.Gateway, call.AccountId, call.Path,
            call.RequestBody?.BytesRead ?? 0, call.ResponseBody?.BytesWritten ?? 0, call.UpstreamLatencyMs, Origin: http.Origin(), Limit: call.Limit));

    /// <summary>Benchmarks only: the same forwarder and client with no key, plan or usage (<c>Portal:Gateway:BareRouteUpstream</c>).</summary>
    private async Task BareAsync(HttpContext http, PathString rest)
    {
        var error = await _forwarder.SendAsync(http, _bareUpstream! + rest, _client.Invoker, ForwarderRequestConfig.Empty, BareTransformer.Instance);
        if (error != ForwarderError.None && !http.Response.HasStarted) http.Response.StatusCode = StatusCodes.Status502BadGateway;
    }

    private sealed class BareTransformer : HttpTransformer
    {
        public static readonly BareTransformer Instance = new();

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, PathString.Empty, httpContext.Request.QueryString);
        }
    }
}
