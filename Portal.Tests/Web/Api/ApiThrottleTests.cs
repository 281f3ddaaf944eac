using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The per-key limit on <c>/api/v1</c>: 429 problem details with Retry-After and RateLimit headers, per key, higher for admins.</summary>
public sealed class ApiThrottleTests : IDisposable
{
    private readonly PortalApiFactory _app = new(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(), settings: new Dictionary<string, string?>
    {
        ["Portal:Api:RateLimit:PermitsPerSecond"] = "2",
        ["Portal:Api:RateLimit:Burst"] = "5",
        ["Portal:Api:RateLimit:AdminPermitsPerSecond"] = "30",
    });

    public void Dispose() => _app.Dispose();

    private static async Task<int> PassedOfAsync(HttpClient client, int calls)
    {
        var passed = 0;
        for (var i = 0; i < calls; i++)
            if ((await client.GetAsync("/api/v1/me")).StatusCode == HttpStatusCode.OK) passed++;
        return passed;
    }

    [Fact]
    public async Task AFloodingKey_Gets429WithRetryAfterAndRateLimitHeaders_WhileAnotherKeyStillPasses()
    {
        var flooder = (await _app.ClientWithKeyAsync(Roles.Developer)).Client;
        var neighbour = (await _app.ClientWithKeyAsync(Roles.Developer)).Client;

        HttpResponseMessage? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            var response = await flooder.GetAsync("/api/v1/me");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
        }

        Assert.NotNull(refused);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("calls per second", problem.GetProperty("detail").GetString());
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 5);
        Assert.Equal("\"api\";q=2;w=1", Assert.Single(refused.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal($"\"api\";r=0;t={retryAfter}", Assert.Single(refused.Headers.GetValues("RateLimit")));

        Assert.Equal(HttpStatusCode.OK, (await neighbour.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task AnAdminsKey_HasTheHigherLimit()
    {
        var developer = (await _app.ClientWithKeyAsync(Roles.Developer)).Client;
        var admin = (await _app.ClientWithKeyAsync(Roles.Admin)).Client;
        var superAdmin = (await _app.ClientWithKeyAsync(Roles.SuperAdmin)).Client;

        Assert.InRange(await PassedOfAsync(developer, 20), 5, 8);
        Assert.Equal(20, await PassedOfAsync(admin, 20));
        Assert.Equal(20, await PassedOfAsync(superAdmin, 20));
    }

    [Fact]
    public async Task KeyVerification_IsNotHeldToTheApiLimit()
    {
        var gateway = (await _app.ClientWithKeyAsync(Roles.Developer, Scopes.Read)).Client;

        for (var i = 0; i < 20; i++)
        {
            var response = await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key = "ptl_unknown", product = "payments" });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task TurnedOff_NoCallIsRefused()
    {
        using var unlimited = _app.WithWebHostBuilder(b => b.UseSetting("Portal:Api:RateLimit:Enabled", "false"));
        var key = (await _app.IssueKeyAsync((await _app.RootAsync()).UserId, [Scopes.Read])).Key;
        var client = unlimited.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        Assert.Equal(40, await PassedOfAsync(client, 40));
    }
}
