using System.Diagnostics;
using System.Security.Claims;
using Portal.Core.Domain;
using Portal.Core.Features.Usage;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Features.Usage;

/// <summary>
/// Records every key-authenticated <c>/api/v1</c> call after its response, into the usage queue: no database work
/// and no waiting on the request path. Placed before authorization and the exception handler, so it sees the final
/// status of every call whose key was recognised: refused for its scopes (403), failed (4xx) or crashed (500). A call
/// without a recognised key (401) belongs to no key and is not recorded.
/// </summary>
public sealed class UsageRecordingMiddleware(RequestDelegate next, UsageRecorder recorder, TimeProvider clock)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments("/api/v1"))
        {
            await next(http);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(http);
        }
        finally
        {
            // The API-key scheme puts its principal on the context during authorization (also when it then refuses with
            // 403); a cookie user has no key id.
            if (RecordedByTheEndpoint(http))
            {
                // One request, one usage row: the endpoint's service recorded this call in its own terms.
            }
            else if (KeyOf(http.User) is ({ } keyId, var owner, var application))
            {
                var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
                recorder.Record(new UsageRecord(clock.GetUtcNow(), keyId, owner, http.Request.Method, route,
                    http.Response.StatusCode, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds, application,
                    Origin: http.Origin()));
            }
        }
    }

    private static (Guid? KeyId, Guid? Owner, Guid? Application) KeyOf(ClaimsPrincipal user)
    {
        if (user.Identity is ApiKeyClaimsIdentity { Key: var key }) return (key.KeyId, key.ApplicationId is null ? key.UserId : null, key.ApplicationId);
        if (!Guid.TryParse(user.FindFirstValue(PortalClaims.KeyId), out var keyId)) return (null, null, null);
        return (keyId,
            Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var owner) ? owner : null,
            Guid.TryParse(user.FindFirstValue(PortalClaims.ApplicationId), out var application) ? application : null);
    }

    private static bool RecordedByTheEndpoint(HttpContext http) =>
        http.Response.StatusCode == StatusCodes.Status200OK && http.GetEndpoint()?.Metadata.GetMetadata<UsageRecordedByEndpoint>() is not null;
}

public static class RequestOrigins
{
    /// <summary>
    /// The caller's address and user agent as references the request already holds (a single header value is its own
    /// string): nothing is formatted or copied on the request path.
    /// </summary>
    public static RequestOrigin Origin(this HttpContext http) =>
        new(http.Connection.RemoteIpAddress, http.Request.Headers.UserAgent);
}

/// <summary>
/// Endpoint metadata: a successful call is recorded by the service behind it (a key verification records the
/// verified key, its application, product, plan and code), so the middleware does not record it a second time.
/// Its refused calls (400, 403) are recorded by the middleware as usual; a 401 has no known key and is recorded by neither.
/// </summary>
public sealed class UsageRecordedByEndpoint
{
    public static readonly UsageRecordedByEndpoint Instance = new();
}

/// <summary>
/// Runs the usage writer and, at start and hourly, the usage events' partitions ahead (PostgreSQL) and the retention
/// purge; on shutdown writes whatever is still queued.
/// </summary>
public sealed class UsageWriterService(UsageWriter writer, ILogger<UsageWriterService> logger) : BackgroundService
{
    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var purging = PurgeLoopAsync(stoppingToken);
        await writer.RunAsync(stoppingToken);
        await purging;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await writer.DrainAsync(cancellationToken);
    }

    private async Task PurgeLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(PurgeInterval);
        try
        {
            do
            {
                try
                {
                    var made = await writer.EnsurePartitionsAsync(ct);
                    if (made > 0) logger.LogInformation("Made {Count} daily partitions of usage events ahead", made);
                    var deleted = await writer.PurgeAsync(ct);
                    if (deleted > 0) logger.LogInformation("Deleted {Count} usage events past retention", deleted);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Usage retention purge failed; retrying in {Interval}", PurgeInterval);
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}

/// <summary>Keeps the precomputed part of the standard windows' top lists current (<see cref="UsageTopBases"/>).</summary>
public sealed class UsageTopBasesService(UsageTopBases bases) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => bases.RunAsync(stoppingToken);
}
