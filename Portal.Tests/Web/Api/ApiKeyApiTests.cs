using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The API-key endpoints and key authentication over HTTP, with real keys issued by the service.</summary>
public sealed class ApiKeyApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static readonly (string Method, string Path)[] Endpoints =
    [
        ("GET", "/api/v1/api-keys"),
        ("GET", "/api/v1/api-keys/metrics"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/api-keys/{id}"),
        ("GET", "/api/v1/api-keys/{id}/usage"),
        ("POST", "/api/v1/api-keys/{id}/revoke"),
        ("POST", "/api/v1/api-keys/{id}/regenerate"),
        ("DELETE", "/api/v1/api-keys/{id}"),
    ];

    private static HttpRequestMessage Request(string method, string path, Guid id) =>
        new(new HttpMethod(method), path.Replace("{id}", id.ToString()))
        {
            Content = method == "GET" || method == "DELETE" ? null : JsonContent.Create(new { name = "x", scopes = new[] { "read" } }),
        };

    [Fact]
    public async Task Me_WithBearerKey_Is200_WithKeyIdAndScopes()
    {
        var (client, user, key) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal(user.Id, me.GetProperty("userId").GetGuid());
        Assert.Equal(key.Id, me.GetProperty("keyId").GetGuid());
        Assert.Equal(["read"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Me_HasTheUserAsAnObject_AndKeepsTheFlatFieldsScriptsRead()
    {
        var (client, user, key) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read, Scopes.Write);

        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/me");

        var caller = me.GetProperty("user");
        Assert.Equal(user.Id, caller.GetProperty("id").GetGuid());
        Assert.Equal(user.Email, caller.GetProperty("email").GetString());
        Assert.Equal(user.DisplayName, caller.GetProperty("displayName").GetString());
        Assert.Equal(user.Id, me.GetProperty("userId").GetGuid());
        Assert.Equal(user.Email, me.GetProperty("email").GetString());
        Assert.Equal(user.DisplayName, me.GetProperty("displayName").GetString());
        Assert.Equal([Roles.Developer], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(key.Id, me.GetProperty("keyId").GetGuid());
        Assert.Equal(["read", "write"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task Me_WithXApiKeyHeader_Is200()
    {
        var (_, _, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        var response = await factory.ClientWithKey(key.Key, asHeader: true).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("ptl_notakey")]
    [InlineData("garbage")]
    public async Task Me_WithMalformedKey_Is401ProblemWithChallenge(string presented)
    {
        var response = await factory.ClientWithKey(presented).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Me_WithUnknownWellFormedKey_Is401()
    {
        var response = await factory.ClientWithKey(ApiKeyFormat.Generate().Key).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Revoke_OverHttp_Is204_Idempotent_AndTheKeyIs401OnTheNextRequest()
    {
        var (client, _, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/api-keys/{key.Id}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/api-keys/{key.Id}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Create_OverHttp_Is201_WithLocationAndTheKeyOnce_WhichThenWorks()
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var response = await client.PostAsJsonAsync("/api/v1/api-keys",
            new { name = "deploy", description = "CI deploys", scopes = new[] { "read", "write" }, expiresAt = DateTimeOffset.UtcNow.AddDays(30) });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetGuid();
        var key = body.GetProperty("key").GetString()!;
        Assert.Equal($"/api/v1/api-keys/{id}", response.Headers.Location?.OriginalString);
        Assert.StartsWith("ptl_", key);
        // The key's own fields beside the secret, as GET gives them.
        Assert.Equal(user.Id, body.GetProperty("ownerId").GetGuid());
        Assert.Equal("deploy", body.GetProperty("name").GetString());
        Assert.Equal(["read", "write"], body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("Active", body.GetProperty("status").GetString());

        var details = await client.GetStringAsync($"/api/v1/api-keys/{id}");
        Assert.DoesNotContain(key, details);
        Assert.DoesNotContain(key, await client.GetStringAsync("/api/v1/api-keys"));
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(key).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Create_InvalidInput_Is400_DuplicateName_Is409()
    {
        var (client, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var invalid = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "", scopes = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        // A developer's key has no admin scope, so it cannot mint one.
        var stronger = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "a", scopes = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.Forbidden, stronger.StatusCode);
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (_, auditor, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var beyondRoles = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "a", scopes = new[] { "read", "write" }, ownerId = auditor.Id });
        Assert.Equal(HttpStatusCode.BadRequest, beyondRoles.StatusCode);
        var past = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "a", scopes = new[] { "read" }, expiresAt = DateTimeOffset.UtcNow.AddDays(-1) });
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "dup", scopes = new[] { "read" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "dup", scopes = new[] { "read" } })).StatusCode);
    }

    [Fact]
    public async Task Regenerate_OverHttp_Is200_OldSecret401_NewSecret200()
    {
        var (client, user, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        var other = await factory.IssueKeyAsync(user.Id, [Scopes.Read, Scopes.Write]);

        var response = await client.PostAsync($"/api/v1/api-keys/{other.Id}/regenerate", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var renewed = answer.GetProperty("key").GetString()!;
        // Same id, name and scopes: the answer says so itself.
        Assert.Equal((other.Id, other.Name), (answer.GetProperty("id").GetGuid(), answer.GetProperty("name").GetString()));
        Assert.Equal(other.Scopes, answer.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));

        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWithKey(other.Key).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(renewed).GetAsync("/api/v1/me")).StatusCode);

        var withGrace = await factory.ClientWithKey(renewed).PostAsJsonAsync($"/api/v1/api-keys/{other.Id}/regenerate", new { gracePeriodMinutes = 10 });
        Assert.Equal(HttpStatusCode.OK, withGrace.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWithKey(renewed).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(key.Id, (await client.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("keyId").GetGuid());
    }

    [Fact]
    public async Task Regenerate_SixParallelCalls_OnADatabaseFile_One200_Five409Problems_AndOnlyTheNewSecretWorks()
    {
        var gate = new TransactionGate(racers: 6);
        await using var file = new SqliteFile();
        using var raced = new PortalApiFactory(DatabaseProvider.Sqlite, file.ConnectionString, gate.AddTo);
        var (client, user, _) = await raced.ClientWithKeyAsync(Roles.Developer);
        var target = await raced.IssueKeyAsync(user.Id, [Scopes.Read]);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            gate.RunAsync(() => client.PostAsync($"/api/v1/api-keys/{target.Id}/regenerate", null))));

        Assert.Equal(6, gate.Held);
        var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        var losers = responses.Where(r => r != winner).ToList();
        Assert.All(losers, r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        foreach (var loser in losers)
        {
            Assert.Equal("application/problem+json", loser.Content.Headers.ContentType?.MediaType);
            var problem = await loser.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("The key was regenerated by another request; try again.", problem.GetProperty("detail").GetString());
            Assert.False(problem.TryGetProperty("key", out _));
        }
        var renewed = (await winner.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await raced.ClientWithKey(renewed).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raced.ClientWithKey(target.Key).GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Delete_OverHttp_Is204_ThenKey401_AndId404()
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var doomed = await factory.IssueKeyAsync(user.Id, [Scopes.Read]);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/api-keys/{doomed.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWithKey(doomed.Key).GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/v1/api-keys/{doomed.Id}")).StatusCode);
    }

    [Fact]
    public async Task OwnerDeactivated_TheirKeyIs401OnTheNextRequest()
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
        await factory.Get<UserService>().UpdateAsync(await factory.RootAsync(), user.Id, new UpdateUser { Status = UserStatus.Inactive });
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task EveryEndpoint_WithoutKey_Is401()
    {
        var anonymous = factory.AnonymousClient();
        foreach (var (method, path) in Endpoints)
        {
            var response = await anonymous.SendAsync(Request(method, path, Guid.NewGuid()));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {response.StatusCode}");
        }
    }

    [Fact]
    public async Task WriteEndpoints_WithReadOnlyScope_Are403()
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read);
        var target = await factory.IssueKeyAsync(user.Id, [Scopes.Read]);
        foreach (var (method, path) in Endpoints.Where(e => e.Method != "GET"))
        {
            var response = await client.SendAsync(Request(method, path, target.Id));
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} answered {response.StatusCode}");
        }
    }

    [Fact]
    public async Task WriteEndpoints_ForAReadOnlyUser_Are403_ReadEndpoints200()
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.ReadOnly);
        var own = await factory.IssueKeyAsync(user.Id, [Scopes.Read]);
        foreach (var (method, path) in Endpoints)
        {
            var response = await client.SendAsync(Request(method, path, own.Id));
            var expected = method == "GET" ? HttpStatusCode.OK : HttpStatusCode.Forbidden;
            Assert.True(response.StatusCode == expected, $"{method} {path} answered {response.StatusCode}");
        }
    }

    [Fact]
    public async Task AnotherUsersKey_IsNotFoundForADeveloper_VisibleToAnAdmin()
    {
        var (_, _, theirs) = await factory.ClientWithKeyAsync(Roles.Developer);
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync($"/api/v1/api-keys/{theirs.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await developer.PostAsync($"/api/v1/api-keys/{theirs.Id}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/v1/api-keys/{theirs.Id}")).StatusCode);
    }

    [Fact]
    public async Task Admin_CreatesAKeyForAnotherUser_WithAdminScope_NotWithoutIt()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (adminWriteOnly, _, _) = await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read, Scopes.Write);
        var (_, target, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var body = new { name = "assigned", scopes = new[] { "read" }, ownerId = target.Id };
        Assert.Equal(HttpStatusCode.Forbidden, (await adminWriteOnly.PostAsJsonAsync("/api/v1/api-keys", body)).StatusCode);
        var created = await admin.PostAsJsonAsync("/api/v1/api-keys", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(target.Id, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ownerId").GetGuid());
    }

    [Fact]
    public async Task AnAdminsKey_CannotObtainASuperAdminsSecret_CreateAndRegenerateAre403Problems_RevokeIs204()
    {
        var (admin, _, _) = await factory.ClientWithKeyAsync(Roles.Admin);
        var (superClient, superAdmin, superKey) = await factory.ClientWithKeyAsync(Roles.SuperAdmin);
        var (_, otherAdmin, _) = await factory.ClientWithKeyAsync(Roles.Admin);

        var created = await admin.PostAsJsonAsync("/api/v1/api-keys",
            new { name = "x", scopes = new[] { "read", "write", "admin" }, ownerId = superAdmin.Id });
        var regenerated = await admin.PostAsync($"/api/v1/api-keys/{superKey.Id}/regenerate", null);

        foreach (var refused in new[] { created, regenerated })
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Contains("grant more than yours", problem.GetProperty("detail").GetString());
            Assert.False(problem.TryGetProperty("key", out _));
        }
        Assert.Equal(HttpStatusCode.OK, (await superClient.GetAsync("/api/v1/me")).StatusCode);
        var owned = await superClient.GetFromJsonAsync<JsonElement>($"/api/v1/api-keys?ownerId={superAdmin.Id}");
        Assert.Equal(1, owned.GetProperty("total").GetInt32());
        // Another admin is no more than the caller: a key for them is still the admin's to make (seed: "assign an API key to users").
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/api-keys",
            new { name = "assigned", scopes = new[] { "read", "write", "admin" }, ownerId = otherAdmin.Id })).StatusCode);
        // Taking power away stays allowed.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/v1/api-keys/{superKey.Id}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await superClient.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task List_Metrics_Usage_Answer200WithTheirShapes()
    {
        var (client, _, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/api-keys?page=1&pageSize=10&status=active&search=test");
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(10, list.GetProperty("pageSize").GetInt32());
        var metrics = await client.GetFromJsonAsync<JsonElement>("/api/v1/api-keys/metrics");
        foreach (var field in new[] { "total", "active", "expired", "revoked", "callsToday" })
            Assert.True(metrics.TryGetProperty(field, out _), $"metrics lack {field}");
        var usage = await client.GetFromJsonAsync<JsonElement>($"/api/v1/api-keys/{key.Id}/usage?interval=hour");
        Assert.Equal(24, usage.GetProperty("buckets").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/v1/api-keys?status=sleeping")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/api/v1/api-keys/{key.Id}/usage?interval=week")).StatusCode);
    }

    [Fact]
    public async Task AuthenticatedCalls_AreRecordedAsUsage_WithRouteTemplates_RefusedOnesToo()
    {
        var (client, _, key) = await factory.ClientWithKeyAsync(Roles.Developer);
        for (var i = 0; i < 5; i++) await client.GetAsync("/api/v1/me");
        await client.GetAsync($"/api/v1/api-keys/{Guid.NewGuid()}");
        // A developer may not list users: the key is known, so the refusal is this key's usage too.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/users")).StatusCode);

        var dbFactory = factory.Get<IDbContextFactory<PortalDbContext>>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            var events = await db.UsageEvents.Where(e => e.KeyId == key.Id).ToListAsync();
            if (events.Count >= 7)
            {
                Assert.Equal(7, events.Count);
                Assert.Contains(events, e => e.Route == "/api/v1/api-keys/{id:guid}" && e.Status == 404);
                Assert.Contains(events, e => e.Route == "/api/v1/users/" && e.Status == 403);
                Assert.Equal(7, await db.UsageRollups.Where(r => r.KeyId == key.Id).SumAsync(r => r.Count));
                Assert.Equal(2, await db.UsageRollups.Where(r => r.KeyId == key.Id).SumAsync(r => r.Errors));
                Assert.NotNull(await db.ApiKeys.Where(k => k.Id == key.Id).Select(k => k.LastUsedAt).SingleAsync());
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"only {events.Count} usage events were written");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task OpenApi_DescribesEveryApiKeyEndpoint()
    {
        var json = await factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        foreach (var (method, path) in Endpoints)
        {
            var template = path == "/api/v1/api-keys" ? "/api/v1/api-keys" : path;
            Assert.True(paths.TryGetProperty(template, out var item) && item.TryGetProperty(method.ToLowerInvariant(), out _), $"OpenAPI lacks {method} {path}");
        }
    }
}
