using System.Net;
using System.Text.Json;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

public sealed class HealthAndOpenApiTests : IClassFixture<PortalApiFactory>
{
    private readonly PortalApiFactory _factory;

    public HealthAndOpenApiTests(PortalApiFactory factory) => _factory = factory;

    [Fact]
    public async Task Healthz_DatabaseAnswers_Is200WithoutCredentials()
    {
        var response = await _factory.AnonymousClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_Head_Is200WithoutABody_LikeGet()
    {
        var response = await _factory.AnonymousClient().SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheFoundationEndpoints()
    {
        var json = await _factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        foreach (var path in new[] { "/healthz", "/api/v1/me", "/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{id}/reset-password", "/api/v1/organisation", "/api/v1/audit" })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
    }

    private const int NoBody = 0;
    private const int Body = 1;
    private const int Paged = 2;

    /// <summary>Every row of API.md's endpoint table: the operation, its success status and what that answer carries.</summary>
    public static TheoryData<string, string, int, int> ContractRows => new()
    {
        { "GET", "/api/v1/me", 200, Body },
        { "GET", "/api/v1/organisation", 200, Body },
        { "PUT", "/api/v1/organisation", 200, Body },
        { "GET", "/api/v1/users", 200, Paged },
        { "GET", "/api/v1/users/{id}", 200, Body },
        { "POST", "/api/v1/users", 201, Body },
        { "PATCH", "/api/v1/users/{id}", 200, Body },
        { "POST", "/api/v1/users/{id}/reset-password", 204, NoBody },
        { "DELETE", "/api/v1/users/{id}", 204, NoBody },
        { "GET", "/api/v1/api-keys", 200, Paged },
        { "GET", "/api/v1/api-keys/metrics", 200, Body },
        { "POST", "/api/v1/api-keys", 201, Body },
        { "GET", "/api/v1/api-keys/{id}", 200, Body },
        { "GET", "/api/v1/api-keys/{id}/usage", 200, Body },
        { "POST", "/api/v1/api-keys/{id}/revoke", 204, NoBody },
        { "POST", "/api/v1/api-keys/{id}/regenerate", 200, Body },
        { "DELETE", "/api/v1/api-keys/{id}", 204, NoBody },
        { "GET", "/api/v1/applications", 200, Paged },
        { "POST", "/api/v1/applications", 201, Body },
        { "GET", "/api/v1/applications/{id}", 200, Body },
        { "PATCH", "/api/v1/applications/{id}", 200, Body },
        { "DELETE", "/api/v1/applications/{id}", 204, NoBody },
        { "GET", "/api/v1/applications/{id}/keys", 200, Paged },
        { "POST", "/api/v1/applications/{id}/keys", 201, Body },
        { "POST", "/api/v1/applications/{id}/keys/{keyId}/revoke", 204, NoBody },
        { "GET", "/api/v1/accounts", 200, Paged },
        { "POST", "/api/v1/accounts", 201, Body },
        { "GET", "/api/v1/products", 200, Paged },
        { "POST", "/api/v1/products", 201, Body },
        { "PATCH", "/api/v1/products/{id}", 200, Body },
        { "DELETE", "/api/v1/products/{id}", 204, NoBody },
        { "GET", "/api/v1/subscriptions", 200, Paged },
        { "POST", "/api/v1/subscriptions", 201, Body },
        { "POST", "/api/v1/subscriptions/{id}/approve", 200, Body },
        { "POST", "/api/v1/subscriptions/{id}/reject", 200, Body },
        { "POST", "/api/v1/subscriptions/{id}/unsubscribe", 200, Body },
        { "POST", "/api/v1/keys/verify", 200, Body },
        { "GET", "/api/v1/usage/summary", 200, Body },
        { "GET", "/api/v1/usage/requests", 200, Paged },
        { "GET", "/api/v1/webhooks/event-types", 200, Body },
        { "GET", "/api/v1/webhooks", 200, Paged },
        { "POST", "/api/v1/webhooks", 201, Body },
        { "GET", "/api/v1/webhooks/{id}", 200, Body },
        { "PATCH", "/api/v1/webhooks/{id}", 200, Body },
        { "DELETE", "/api/v1/webhooks/{id}", 204, NoBody },
        { "POST", "/api/v1/webhooks/{id}/rotate-secret", 200, Body },
        { "POST", "/api/v1/webhooks/{id}/test", 202, Body },
        { "GET", "/api/v1/webhooks/{id}/deliveries", 200, Paged },
        { "POST", "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry", 202, Body },
        { "GET", "/api/v1/audit", 200, Paged },
        { "GET", "/healthz", 200, Body },
    };

    private JsonElement? _document;

    private async Task<JsonElement> DocumentAsync() =>
        _document ??= JsonDocument.Parse(await _factory.AnonymousClient().GetStringAsync("/openapi/v1.json")).RootElement;

    private static JsonElement Resolve(JsonElement root, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference)
            ? root.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!["#/components/schemas/".Length..])
            : schema;

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement root) =>
        root.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(op => op.Name is "get" or "put" or "post" or "patch" or "delete")
            .Select(op => (path.Name, op.Name.ToUpperInvariant(), op.Value)));

    [Theory]
    [MemberData(nameof(ContractRows))]
    public async Task OpenApiDocument_DescribesEachContractRow_WithItsSuccessStatusAndBody(string method, string path, int status, int body)
    {
        var root = await DocumentAsync();
        Assert.True(root.GetProperty("paths").TryGetProperty(path, out var item), $"OpenAPI lacks {path}");
        Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"OpenAPI lacks {method} {path}");
        Assert.True(operation.GetProperty("responses").TryGetProperty(status.ToString(), out var success),
            $"{method} {path} does not document {status}; it documents {string.Join(", ", operation.GetProperty("responses").EnumerateObject().Select(r => r.Name))}");

        if (body == NoBody)
        {
            Assert.False(success.TryGetProperty("content", out _), $"{method} {path} answers {status} without a body");
            return;
        }
        var schema = Resolve(root, success.GetProperty("content").GetProperty("application/json").GetProperty("schema"));
        Assert.True(schema.TryGetProperty("properties", out _) || schema.TryGetProperty("items", out _), $"{method} {path}: {status} has no typed body: {schema}");
        if (body == Paged)
        {
            var properties = schema.GetProperty("properties");
            foreach (var name in new[] { "items", "page", "pageSize", "total" })
                Assert.True(properties.TryGetProperty(name, out _), $"{method} {path}: the list shape lacks '{name}'");
            Assert.True(Resolve(root, properties.GetProperty("items").GetProperty("items")).TryGetProperty("properties", out _),
                $"{method} {path}: the list's items are not typed");
        }
    }

    [Fact]
    public async Task OpenApiDocument_EveryApiOperation_HasASuccess_AndProblemAnswersForKeyAndBadInput()
    {
        var root = await DocumentAsync();
        foreach (var (path, method, operation) in Operations(root).Where(o => o.Path.StartsWith("/api/v1", StringComparison.Ordinal)))
        {
            var responses = operation.GetProperty("responses").EnumerateObject().ToDictionary(r => r.Name, r => r.Value);
            Assert.True(responses.Keys.Any(code => code.StartsWith('2')), $"{method} {path} documents no success");
            foreach (var code in new[] { "400", "401", "403" })
            {
                Assert.True(responses.TryGetValue(code, out var problem), $"{method} {path} does not document {code}");
                Assert.True(problem.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path}: {code} is not problem details");
            }
            if (method is "POST" or "PUT" or "PATCH")
                Assert.True(responses.ContainsKey("413"), $"{method} {path} takes a body but does not document 413");
            if (path.Contains('{'))
                Assert.True(responses.ContainsKey("404"), $"{method} {path} names an id but does not document 404");
        }
    }

    [Theory]
    [InlineData("POST", "/api/v1/users")]
    [InlineData("PATCH", "/api/v1/users/{id}")]
    [InlineData("POST", "/api/v1/subscriptions/{id}/approve")]
    [InlineData("POST", "/api/v1/subscriptions/{id}/reject")]
    [InlineData("POST", "/api/v1/subscriptions")]
    [InlineData("DELETE", "/api/v1/products/{id}")]
    [InlineData("POST", "/api/v1/webhooks/{id}/test")]
    public async Task OpenApiDocument_DocumentsConflicts_WhereTheContractHasThem(string method, string path)
    {
        var root = await DocumentAsync();
        var responses = root.GetProperty("paths").GetProperty(path).GetProperty(method.ToLowerInvariant()).GetProperty("responses");
        Assert.True(responses.TryGetProperty("409", out _), $"{method} {path} does not document 409");
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheListQueryParameters()
    {
        var root = await DocumentAsync();
        var lists = Operations(root).Where(o => o.Operation.TryGetProperty("parameters", out var ps) && ps.EnumerateArray().Any(p => p.GetProperty("name").GetString() == "pageSize")).ToList();
        Assert.True(lists.Count >= 10, $"only {lists.Count} operations take pageSize");
        foreach (var (path, method, operation) in lists)
        {
            var parameters = operation.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            foreach (var name in new[] { "page", "pageSize", "search", "sort" }.Where(parameters.ContainsKey))
                Assert.False(string.IsNullOrWhiteSpace(parameters[name].TryGetProperty("description", out var d) ? d.GetString() : null),
                    $"{method} {path}: '{name}' has no description");
            var pageSize = parameters["pageSize"].GetProperty("schema");
            Assert.Equal(200, pageSize.GetProperty("maximum").GetInt32());
            Assert.Equal(1, pageSize.GetProperty("minimum").GetInt32());
            Assert.Equal(1, parameters["page"].GetProperty("schema").GetProperty("minimum").GetInt32());
        }
    }

    [Fact]
    public async Task OpenApiDocument_AsksForAKeyOnTheApi_ButNotOnHealthz()
    {
        var root = await DocumentAsync();
        var everywhere = root.TryGetProperty("security", out var global) ? global.GetArrayLength() : 0;

        int Requirements(JsonElement operation) =>
            operation.TryGetProperty("security", out var own) ? own.GetArrayLength() : everywhere;

        Assert.Equal(0, Requirements(root.GetProperty("paths").GetProperty("/healthz").GetProperty("get")));
        foreach (var (path, method, operation) in Operations(root).Where(o => o.Path.StartsWith("/api/v1", StringComparison.Ordinal)))
            Assert.True(Requirements(operation) > 0, $"{method} {path} does not say it needs a key");
    }
}
