using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Portal.Core.Data;
using Portal.Tests.Support;
using Portal.Web.Host;

namespace Portal.Tests.Web.Api;

/// <summary><c>/healthz</c> on ASP.NET's health checks: API.md's answer when a check fails, and each check asked at most once a second.</summary>
public sealed class HealthCheckTests
{
    [Fact]
    public async Task Healthz_ACheckFails_Is503ProblemDetails_AndHeadTheSameStatus()
    {
        await using var factory = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
            services => services.AddHealthChecks().AddCheck("down", () => HealthCheckResult.Unhealthy()));
        var client = factory.AnonymousClient();

        var get = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await get.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(("Unhealthy", "The database does not answer.", 503),
            (problem.GetProperty("title").GetString(), problem.GetProperty("detail").GetString(), problem.GetProperty("status").GetInt32()));

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));
        // Only the status: the test server passes on the status-code page's problem body, which Kestrel drops for HEAD.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, head.StatusCode);
    }

    [Fact]
    public async Task Healthz_OtherMethods_AreNotAllowed()
    {
        await using var factory = new PortalApiFactory();
        var response = await factory.AnonymousClient().PostAsync("/healthz", null);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Answers_CallersWithinASecond_ShareOneCheck_TheNextSecondAsksAgain()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var answers = new HealthAnswers(clock);
        var registration = new HealthCheckRegistration("database", new Unused(), failureStatus: null, tags: null);
        var asked = 0;
        var release = new TaskCompletionSource();
        async Task<HealthCheckResult> Check()
        {
            Interlocked.Increment(ref asked);
            await release.Task;
            return HealthCheckResult.Healthy();
        }

        var waiting = Enumerable.Range(0, 20).Select(_ => answers.GetAsync(registration, Check, CancellationToken.None)).ToList();
        release.SetResult();
        var results = await Task.WhenAll(waiting);

        Assert.Equal(1, asked);
        Assert.All(results, r => Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, r.Status));
        clock.Advance(HealthAnswers.MaxAge - TimeSpan.FromMilliseconds(1));
        await answers.GetAsync(registration, Check, CancellationToken.None);
        Assert.Equal(1, asked);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await answers.GetAsync(registration, Check, CancellationToken.None);
        Assert.Equal(2, asked);
    }

    [Fact]
    public async Task Answers_ACheckThatThrows_IsUnhealthy_AndRememberedForASecondToo()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        var answers = new HealthAnswers(clock);
        var registration = new HealthCheckRegistration("database", new Unused(), failureStatus: null, tags: null);
        var asked = 0;
        Task<HealthCheckResult> Check()
        {
            asked++;
            throw new InvalidOperationException("The database is gone.");
        }

        var first = await answers.GetAsync(registration, Check, CancellationToken.None);
        var second = await answers.GetAsync(registration, Check, CancellationToken.None);

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, first.Status);
        Assert.Equal(first.Status, second.Status);
        Assert.Equal(1, asked);
    }

    private sealed class Unused : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            throw new InvalidOperationException("The answers are given by the function passed to GetAsync.");
    }
}
