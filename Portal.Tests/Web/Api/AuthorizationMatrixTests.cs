using System.Net;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>
/// Who may call what, for every <c>/api/v1</c> endpoint the app maps. The endpoint list comes from the running
/// app, so a new endpoint without a row here fails <see cref="EveryApiEndpoint_HasAMatrixRow"/>.
/// </summary>
public sealed class AuthorizationMatrixTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private const string SA = Roles.SuperAdmin, A = Roles.Admin, RO = Roles.ReadOnly, D = Roles.Developer;

    /// <summary>Any key may ask who it is.</summary>
    private const string AnyScope = "*";

    /// <summary>The owner with a write key, or an admin with an admin key.</summary>
    private const string WriteOrAdmin = Scopes.Write + "|" + Scopes.Admin;

    /// <summary>Method and route → the roles allowed (with every scope) and the scope the call needs (any one of them, if separated by '|').</summary>
    public static readonly IReadOnlyDictionary<string, (string[] Roles, string Scope)> Matrix = new Dictionary<string, (string[], string)>
    {
        ["GET /api/v1/me"] = ([SA, A, RO, D], AnyScope),
        ["GET /api/v1/me/profile"] = ([SA, A, RO, D], AnyScope),
        ["PATCH /api/v1/me/profile"] = ([SA, A, RO, D], AnyScope),
        ["GET /api/v1/users"] = ([SA, A, RO], Scopes.Read),
        ["GET /api/v1/users/{id:guid}"] = ([SA, A, RO], Scopes.Read),
        ["POST /api/v1/users"] = ([SA], Scopes.Admin),
        ["PATCH /api/v1/users/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/users/{id:guid}/reset-password"] = ([SA], Scopes.Admin),
        ["DELETE /api/v1/users/{id:guid}"] = ([SA], Scopes.Admin),
        ["GET /api/v1/organisation"] = ([SA, A, RO, D], Scopes.Read),
        ["PUT /api/v1/organisation"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/audit"] = ([SA, A, RO], Scopes.Read),
        ["GET /api/v1/api-keys"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/api-keys/metrics"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/api-keys/{id:guid}"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/api-keys/{id:guid}/usage"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/api-keys"] = ([SA, A, D], Scopes.Write),
        ["POST /api/v1/api-keys/{id:guid}/revoke"] = ([SA, A, D], Scopes.Write),
        ["POST /api/v1/api-keys/{id:guid}/regenerate"] = ([SA, A, D], Scopes.Write),
        ["DELETE /api/v1/api-keys/{id:guid}"] = ([SA, A, D], Scopes.Write),
        ["GET /api/v1/accounts"] = ([SA, A, RO], Scopes.Read),
        ["POST /api/v1/accounts"] = ([SA, A], Scopes.Admin),
        ["PATCH /api/v1/accounts/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/accounts/{id:guid}/billing-settings"] = ([SA, A, RO, D], Scopes.Read),
        ["PUT /api/v1/accounts/{id:guid}/billing-settings"] = ([SA, A, D], WriteOrAdmin),
        ["GET /api/v1/applications"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/applications"] = ([SA, A, D], Scopes.Write),
        ["GET /api/v1/applications/{id:guid}"] = ([SA, A, RO, D], Scopes.Read),
        ["PATCH /api/v1/applications/{id:guid}"] = ([SA, A, D], Scopes.Write),
        ["DELETE /api/v1/applications/{id:guid}"] = ([SA, A, D], Scopes.Write),
        ["GET /api/v1/applications/{id:guid}/keys"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/applications/{id:guid}/keys"] = ([SA, A, D], Scopes.Write),
        ["POST /api/v1/applications/{id:guid}/keys/{keyId:guid}/revoke"] = ([SA, A, D], Scopes.Write),
        ["GET /api/v1/products"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/products/{idOrSlug}"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/products"] = ([SA, A], Scopes.Admin),
        ["PATCH /api/v1/products/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["DELETE /api/v1/products/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/products/{id:guid}/plans/{planId:guid}/what-if"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/subscriptions"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/subscriptions/{id:guid}"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/subscriptions/{id:guid}/usage"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/subscriptions"] = ([SA, A, D], Scopes.Write),
        ["POST /api/v1/subscriptions/{id:guid}/approve"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/subscriptions/{id:guid}/reject"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/subscriptions/{id:guid}/unsubscribe"] = ([SA, A, D], WriteOrAdmin),
        ["POST /api/v1/keys/verify"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/webhooks/event-types"] = ([SA, A, RO, D], Scopes.Read), // the catalogue is harmless: any read key
        ["GET /api/v1/webhooks"] = ([SA, A, RO], Scopes.Read),
        ["POST /api/v1/webhooks"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/webhooks/{id:guid}"] = ([SA, A, RO], Scopes.Read),
        ["PATCH /api/v1/webhooks/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["DELETE /api/v1/webhooks/{id:guid}"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/webhooks/{id:guid}/rotate-secret"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/webhooks/{id:guid}/reveal-secret"] = ([SA, A], Scopes.Admin),
        ["POST /api/v1/webhooks/{id:guid}/test"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/webhooks/{id:guid}/deliveries"] = ([SA, A, RO], Scopes.Read),
        ["POST /api/v1/webhooks/{id:guid}/deliveries/{deliveryId:guid}/retry"] = ([SA, A], Scopes.Admin),
        ["GET /api/v1/usage/summary"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/usage/requests"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/usage/requests/{id:long}"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/billing/statements"] = ([SA, A, RO, D], Scopes.Read),
        ["GET /api/v1/billing/statements/{accountId:guid}/{month}"] = ([SA, A, RO, D], Scopes.Read),
        ["POST /api/v1/billing/statements/{accountId:guid}/{month}/reissue"] = ([SA, A], Scopes.Admin),
    };

    public static TheoryData<string> Rows() => [.. Matrix.Keys];

    private IEnumerable<string> MappedApiEndpoints() =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => $"{m} {e.RoutePattern.RawText!.TrimEnd('/')}"))
            .Distinct();

    [Fact]
    public void EveryApiEndpoint_HasAMatrixRow()
    {
        var missing = MappedApiEndpoints().Where(e => !Matrix.ContainsKey(e)).ToList();
        Assert.True(missing.Count == 0, "Endpoints without an authorization row: " + string.Join(", ", missing));
        var stale = Matrix.Keys.Except(MappedApiEndpoints()).ToList();
        Assert.True(stale.Count == 0, "Rows for endpoints that no longer exist: " + string.Join(", ", stale));
    }

    private static HttpRequestMessage Request(string row)
    {
        var (method, route) = (row[..row.IndexOf(' ')], row[(row.IndexOf(' ') + 1)..]);
        var url = route.Replace("{id:guid}", Guid.NewGuid().ToString()).Replace("{keyId:guid}", Guid.NewGuid().ToString())
            .Replace("{deliveryId:guid}", Guid.NewGuid().ToString()).Replace("{planId:guid}", Guid.NewGuid().ToString())
            .Replace("{accountId:guid}", Guid.NewGuid().ToString()).Replace("{month}", "2026-10")
            .Replace("{idOrSlug}", "no-such-product").Replace("{id:long}", "1");
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST" or "PUT" or "PATCH")
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        return request;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task WithoutKey_Is401(string row)
    {
        var response = await factory.AnonymousClient().SendAsync(Request(row));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task EachRole_WithEveryScope_IsAllowedOnlyWhereTheMatrixSays(string row)
    {
        var (allowed, _) = Matrix[row];
        foreach (var role in Roles.All)
        {
            var client = await factory.SharedClientAsync(role, Scopes.All);
            var status = (await client.SendAsync(Request(row))).StatusCode;
            if (allowed.Contains(role))
                Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.InternalServerError),
                    $"{role} on {row}: {status}");
            else
                Assert.True(status == HttpStatusCode.Forbidden, $"{role} on {row}: expected 403, got {status}");
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task SuperAdminKey_WithoutTheNeededScope_Is403(string row)
    {
        var (_, scope) = Matrix[row];
        var needed = scope.Split('|');
        var client = await factory.SharedClientAsync(SA, [.. Scopes.All.Where(s => !needed.Contains(s))]);
        var status = (await client.SendAsync(Request(row))).StatusCode;
        if (scope == AnyScope)
            Assert.NotEqual(HttpStatusCode.Forbidden, status);
        else
            Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task SuperAdminKey_WithOnlyTheNeededScope_IsNot403(string row)
    {
        var (_, scope) = Matrix[row];
        foreach (var alternative in scope == AnyScope ? Scopes.All : scope.Split('|'))
        {
            var client = await factory.SharedClientAsync(SA, [alternative]);
            var status = (await client.SendAsync(Request(row))).StatusCode;
            Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.InternalServerError),
                $"a {alternative}-only key on {row}: {status}");
        }
    }
}
