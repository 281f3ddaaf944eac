using System.Collections.Concurrent;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using HealthCheckStatus = Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus;

namespace Portal.Web.Host;

/// <summary>
/// <c>/healthz</c> on ASP.NET's health checks: the database check is EF Core's (<c>CanConnectAsync</c>), each check's
/// answer is kept for a second, and the response is the portal's own (API.md): 200 with <see cref="HealthStatus"/>,
/// or 503 problem details; HEAD (load balancers, uptime checks) the same status code without a body.
/// </summary>
public static class PortalHealth
{
    public const string Path = "/healthz";

    public static IServiceCollection AddPortalHealthChecks(this IServiceCollection services)
    {
        services.AddSingleton<HealthAnswers>();
        services.AddHealthChecks().AddDbContextCheck<PortalDbContext>("database");
        // The framework runs every check on every request. Load balancers poll health often, and the answer should say
        // whether the database answers, not add load to it: each check runs at most once a second.
        services.AddOptions<HealthCheckServiceOptions>().PostConfigure(options =>
        {
            foreach (var registration in options.Registrations)
            {
                var check = registration.Factory;
                registration.Factory = sp => new RememberedHealthCheck(sp.GetRequiredService<HealthAnswers>(), () => check(sp));
            }
        });
        return services;
    }

    public static void MapPortalHealthChecks(this IEndpointRouteBuilder app)
    {
        var options = new HealthCheckOptions
        {
            ResponseWriter = WriteAsync,
            ResultStatusCodes =
            {
                [HealthCheckStatus.Healthy] = StatusCodes.Status200OK,
                [HealthCheckStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthCheckStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            // No answer of the portal carries caching headers; a proxy in front decides for itself.
            AllowCachingResponses = true,
        };
        app.MapHealthChecks(Path, options).Describe(HttpMethods.Get, "200 when the database answers")
            .WithMetadata(new ProducesResponseTypeAttribute(typeof(HealthStatus), StatusCodes.Status200OK, "application/json"),
                new ProducesResponseTypeAttribute(typeof(ProblemDetails), StatusCodes.Status503ServiceUnavailable, "application/problem+json"));
        app.MapHealthChecks(Path, options).Describe(HttpMethods.Head, "The status of GET without a body")
            .WithMetadata(new ProducesResponseTypeAttribute(StatusCodes.Status200OK), new ProducesResponseTypeAttribute(StatusCodes.Status503ServiceUnavailable));
    }

    /// <summary>
    /// ApiExplorer, and so the OpenAPI document and the portal's API reference, lists an endpoint by its handler's
    /// method; a health-check endpoint has none, so <see cref="Healthz"/> stands for it.
    /// </summary>
    private static IEndpointConventionBuilder Describe(this IEndpointConventionBuilder endpoint, string method, string summary) =>
        endpoint.WithMetadata(new HttpMethodMetadata([method]), new Action(Healthz).Method)
            .WithTags("Health").WithSummary(summary).AllowAnonymous();

    private static void Healthz()
    {
    }

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        if (HttpMethods.IsHead(http.Request.Method)) return Task.CompletedTask;
        var answer = report.Status == HealthCheckStatus.Healthy
            ? Results.Ok(new HealthStatus("Healthy", http.RequestServices.GetRequiredService<UsageRecorder>().Dropped))
            : Results.Problem("The database does not answer.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Unhealthy");
        return answer.ExecuteAsync(http);
    }
}

/// <summary>
/// The last answer of each check and when it was given. One check of a name runs at a time; callers meanwhile wait for
/// its answer rather than start another.
/// </summary>
internal sealed class HealthAnswers(TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Remembered> _byName = new(StringComparer.Ordinal);

    public async Task<HealthCheckResult> GetAsync(HealthCheckRegistration registration, Func<Task<HealthCheckResult>> check, CancellationToken ct)
    {
        var remembered = _byName.GetOrAdd(registration.Name, _ => new Remembered());
        if (remembered.Last is { } fresh && clock.GetUtcNow() - fresh.At < MaxAge) return fresh.Result;
        await remembered.Checking.WaitAsync(ct);
        try
        {
            if (remembered.Last is { } again && clock.GetUtcNow() - again.At < MaxAge) return again.Result;
            HealthCheckResult result;
            try
            {
                result = await check();
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // A database that throws is as unhealthy as one that says no, and is asked again only a second later.
                result = new HealthCheckResult(registration.FailureStatus, exception: e);
            }
            remembered.Last = (result, clock.GetUtcNow());
            return result;
        }
        finally
        {
            remembered.Checking.Release();
        }
    }

    private sealed class Remembered
    {
        public readonly SemaphoreSlim Checking = new(1, 1);
        public (HealthCheckResult Result, DateTimeOffset At)? Last;
    }
}

/// <summary>A check answered from <see cref="HealthAnswers"/>; the real one is made only when it runs.</summary>
internal sealed class RememberedHealthCheck(HealthAnswers answers, Func<IHealthCheck> check) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        answers.GetAsync(context.Registration, () => check().CheckHealthAsync(context, ct), ct);
}

/// <summary>
/// The answer of <c>GET /healthz</c>; <paramref name="UsageEventsDropped"/>: usage events this instance could not queue
/// since it started (0 unless the database fell far behind; see <see cref="UsageRecorder"/>).
/// </summary>
public sealed record HealthStatus(string Status, long UsageEventsDropped);
