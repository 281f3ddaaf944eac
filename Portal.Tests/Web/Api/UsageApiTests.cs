using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>
/// /api/v1/usage over the real app. Every call with a key is itself recorded as usage, so the seeded calls lie in whole
/// hours before the current one and the queries end where the current hour starts: the tests' own calls stay outside.
/// </summary>
public sealed class UsageApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private const string Path = "/api/v1/usage";

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("O"));

    private async Task<(UsageSeed Seed, DateTimeOffset Until)> SeedAsync()
    {
        async Task<Actor> UserAsync(string name, string role)
        {
            var user = (await factory.Get<UserService>().CreateAsync(Actor.System, new CreateUser
            {
                Email = $"usage-{name}-{Guid.NewGuid():N}@portal.test", DisplayName = $"Usage {name}", Password = "Passw0rd!", Roles = [role],
            })).Value;
            return new Actor(user.Id, user.Email, user.Roles);
        }
        var seed = await UsageSeed.CreateAsync(factory.Services, await UserAsync("admin", Roles.Admin), name => UserAsync(name, Roles.Developer));
        var until = UsageWriter.HourOf(seed.Now);
        await seed.WriteStandardUsageAsync(until.AddHours(-1));
        return (seed, until);
    }

    private HttpClient Client(Actor actor, params string[] scopes) => factory.ClientFor(actor.UserId, actor.Email, actor.Roles, scopes.Length == 0 ? [Scopes.Read] : scopes);

    [Fact]
    public async Task Summary_AsDeveloper_IsTheirUsageOnly_WithSeriesAndTopLists()
    {
        var (seed, until) = await SeedAsync();

        var response = await Client(seed.DeveloperD).GetAsync($"{Path}/summary?from={Iso(until.AddHours(-6))}&to={Iso(until)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal("hour", body.GetProperty("interval").GetString());
        Assert.Equal(5, body.GetProperty("calls").GetInt64());
        Assert.Equal(1, body.GetProperty("errors").GetInt64());
        Assert.Equal(0.2, body.GetProperty("errorRate").GetDouble());
        Assert.Equal(2, body.GetProperty("verifications").GetProperty("valid").GetInt64());
        Assert.Equal(1, body.GetProperty("verifications").GetProperty("invalid").GetInt64());
        Assert.Equal("RATE_LIMITED", body.GetProperty("verifications").GetProperty("byCode")[1].GetProperty("code").GetString());
        Assert.Equal(6, body.GetProperty("series").GetArrayLength());
        Assert.Equal(until.AddHours(-6), body.GetProperty("series")[0].GetProperty("start").GetDateTimeOffset());
        Assert.Equal(["App A"], body.GetProperty("topApplications").EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        Assert.Equal(seed.Product.Id, body.GetProperty("topProducts")[0].GetProperty("id").GetGuid());
        Assert.Equal(2, body.GetProperty("topKeys").GetArrayLength());
        Assert.Equal(2, body.GetProperty("keys").GetProperty("active").GetInt32());
    }

    [Fact]
    public async Task Summary_WithoutAWindow_IsTheLastSevenDaysPerDay()
    {
        var (seed, _) = await SeedAsync();
        var body = await JsonAsync(await Client(seed.DeveloperE).GetAsync($"{Path}/summary"));
        Assert.Equal("day", body.GetProperty("interval").GetString());
        // The overview's and the dashboard's "7 days": today and the 6 UTC days before it, so the same figures.
        Assert.Equal(7, body.GetProperty("series").GetArrayLength());
        var today = new DateTimeOffset(seed.Now.UtcDateTime.Date, TimeSpan.Zero);
        Assert.Equal(today.AddDays(-6), body.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(today.AddDays(1), body.GetProperty("to").GetDateTimeOffset());
        Assert.Equal(today, body.GetProperty("series")[6].GetProperty("start").GetDateTimeOffset());
    }

    [Fact]
    public async Task Summary_WithOnlyTo_IsTheSevenUtcDaysEndingWithTosDay()
    {
        var (seed, _) = await SeedAsync();
        var body = await JsonAsync(await Client(seed.DeveloperE).GetAsync($"{Path}/summary?to=2026-03-10T00:00:00Z"));
        Assert.Equal(new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero), body.GetProperty("from").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero), body.GetProperty("to").GetDateTimeOffset());
        Assert.Equal(7, body.GetProperty("series").GetArrayLength());
    }

    [Fact]
    public async Task Requests_AsDeveloper_ArePagedNewestFirst_WithNames()
    {
        var (seed, until) = await SeedAsync();

        var response = await Client(seed.DeveloperD).GetAsync($"{Path}/requests?to={Iso(until)}&pageSize=2&page=2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal(5, body.GetProperty("total").GetInt32());
        Assert.Equal(2, body.GetProperty("page").GetInt32());
        Assert.Equal(2, body.GetProperty("pageSize").GetInt32());
        var item = body.GetProperty("items")[1];
        Assert.Equal("/api/v1/applications/{id:guid}", item.GetProperty("route").GetString());
        Assert.Equal(404, item.GetProperty("status").GetInt32());
        Assert.Equal("d laptop", item.GetProperty("keyName").GetString());
        Assert.Equal(seed.DeveloperDKey, item.GetProperty("keyId").GetGuid());
        Assert.True(item.TryGetProperty("latencyMs", out _));
        Assert.True(item.TryGetProperty("at", out _));
    }

    [Fact]
    public async Task Requests_FollowNextCursor_PageAfterPage_ToTheLast_WhichHasNone()
    {
        var (seed, until) = await SeedAsync();
        var client = Client(seed.DeveloperD);
        var all = await JsonAsync(await client.GetAsync($"{Path}/requests?to={Iso(until)}"));
        Assert.False(all.GetProperty("totalIsLowerBound").GetBoolean());
        Assert.Equal(JsonValueKind.Null, all.GetProperty("nextCursor").ValueKind);

        var ids = new List<long>();
        var body = await JsonAsync(await client.GetAsync($"{Path}/requests?to={Iso(until)}&pageSize=2"));
        for (var page = 1; ; page++)
        {
            Assert.Equal(page, body.GetProperty("page").GetInt32());
            Assert.Equal(5, body.GetProperty("total").GetInt32());
            ids.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()));
            if (body.GetProperty("nextCursor").GetString() is not { } next) break;
            body = await JsonAsync(await client.GetAsync($"{Path}/requests?to={Iso(until)}&pageSize=2&cursor={Uri.EscapeDataString(next)}"));
        }
        Assert.Equal(all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()), ids);
        Assert.Equal(3, ids.Count / 2 + ids.Count % 2);
    }

    [Fact]
    public async Task Requests_AsAdmin_FilterByApplicationProductKeyAndStatus()
    {
        var (seed, until) = await SeedAsync();
        var client = Client(seed.Admin);
        async Task<int> TotalAsync(string query) =>
            (await JsonAsync(await client.GetAsync($"{Path}/requests?to={Iso(until)}&{query}"))).GetProperty("total").GetInt32();

        Assert.Equal(3, await TotalAsync($"applicationId={seed.AppA.Id}"));
        Assert.Equal(5, await TotalAsync($"productId={seed.Product.Id}"));
        Assert.Equal(1, await TotalAsync($"keyId={seed.AdminKey}&status=5xx"));
        Assert.Equal(1, await TotalAsync($"keyId={seed.DeveloperDKey}&status=404"));
        Assert.Equal(2, await TotalAsync($"applicationId={seed.AppB.Id}&status=2xx"));
        Assert.Equal(2, await TotalAsync($"applicationId={seed.AppB.Id}&search=verify&status=200&from={Iso(until.AddHours(-1).AddMinutes(-30))}&pageSize=1"));
    }

    [Theory]
    [InlineData("summary?from=yesterday", "from")]
    [InlineData("summary?to=2026-13-45", "to")]
    [InlineData("summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    [InlineData("summary?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("summary?to=0001-01-03T00:00:00Z", "to")]
    [InlineData("summary?to=9999-12-31T23:59:59Z", "to")]
    [InlineData("summary?from=9999-12-30T00:00:00Z&to=9999-12-31T23:59:59Z", "from")]
    [InlineData("summary?from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z", "from")]
    [InlineData("summary?from=1999-12-31T23:00:00Z", "from")]
    [InlineData("requests?to=9999-12-31T23:59:59Z", "to")]
    [InlineData("requests?from=0001-01-01T00:00:00Z", "from")]
    [InlineData("requests?pageSize=201", "pageSize")]
    [InlineData("requests?pageSize=0", "pageSize")]
    [InlineData("requests?page=first", "page")]
    [InlineData("requests?status=teapot", "status")]
    [InlineData("requests?keyId=not-a-guid", "keyId")]
    [InlineData("requests?applicationId=1", "applicationId")]
    [InlineData("requests?from=soon", "from")]
    [InlineData("requests?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to")]
    [InlineData("requests?cursor=not-a-cursor", "cursor")]
    [InlineData("requests?cursor=cjEuMS4y", "cursor")]
    [InlineData("requests?page=51&pageSize=200", "page")]
    public async Task ABadQueryValue_Is400ProblemNamingTheField(string pathAndQuery, string field)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.ReadOnly, Scopes.Read);
        var response = await client.GetAsync($"{Path}/{pathAndQuery}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await JsonAsync(response)).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Request_ById_IsTheCallersOwn_AnothersIs404()
    {
        var (seed, until) = await SeedAsync();
        var theirs = (await JsonAsync(await Client(seed.DeveloperE).GetAsync($"{Path}/requests?to={Iso(until)}"))).GetProperty("items");
        var id = theirs[0].GetProperty("id").GetInt64();

        var own = await Client(seed.DeveloperE).GetAsync($"{Path}/requests/{id}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal("App B", (await JsonAsync(own)).GetProperty("applicationName").GetString());

        var other = await Client(seed.DeveloperD).GetAsync($"{Path}/requests/{id}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.OK, (await Client(seed.Admin).GetAsync($"{Path}/requests/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client(seed.Admin).GetAsync($"{Path}/requests/{long.MaxValue}")).StatusCode);
    }

    [Fact]
    public async Task Request_ById_AnswersTheCallersUserAgent_AndExplainsARefusedCall()
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var agent = $"billing-script/{Guid.NewGuid():N}";
        client.DefaultRequestHeaders.UserAgent.ParseAdd(agent);
        // A read key may not write: the call is refused (403) and recorded with who sent it.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/applications", new { name = "x" })).StatusCode);
        await factory.Get<UsageWriter>().DrainAsync();

        var items = (await JsonAsync(await client.GetAsync($"{Path}/requests?status=403"))).GetProperty("items");
        var detail = await JsonAsync(await client.GetAsync($"{Path}/requests/{items[0].GetProperty("id").GetInt64()}"));

        Assert.Equal(agent, detail.GetProperty("userAgent").GetString());
        Assert.True(detail.TryGetProperty("clientAddress", out _));
        Assert.Equal("403", detail.GetProperty("explanation").GetProperty("code").GetString());
        Assert.False(detail.GetProperty("explanation").GetProperty("fromPlanNow").GetBoolean());
        // The list stays lean: the explanation is the detail's.
        Assert.Equal(JsonValueKind.Null, items[0].GetProperty("explanation").ValueKind);
    }

    [Fact]
    public async Task Usage_WithAKeyWithoutRead_Is403_WithoutAKey_Is401()
    {
        var (seed, _) = await SeedAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(seed.DeveloperD, Scopes.Write).GetAsync($"{Path}/summary")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync($"{Path}/requests")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesTheUsageEndpoints()
    {
        var document = await factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/v1/usage/summary\"", document);
        Assert.Contains("\"/api/v1/usage/requests\"", document);
        Assert.Contains("\"/api/v1/usage/requests/{id}\"", document);
        Assert.Contains(nameof(UsageSummary), document);
    }
}
