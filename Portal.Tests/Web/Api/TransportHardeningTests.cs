using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>A refused oversized body closes its connection cleanly; the OpenAPI document is public only when configured so.</summary>
public sealed class TransportHardeningTests
{
    [Fact]
    public async Task ABodyOverTheLimit_Answers413WithConnectionClose_AndTheNextRequestOfTheClientWorks()
    {
        using var app = new PortalApiFactory();
        app.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var key = await app.IssueKeyAsync((await app.RootAsync()).UserId, [Scopes.Read, Scopes.Write]);
        using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { BaseAddress = new Uri(address) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);

        var tooLarge = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        tooLarge.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var refused = await client.PostAsync("/api/v1/api-keys", tooLarge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.True(refused.Headers.ConnectionClose, "A 413 whose body was not read must close its connection.");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_IsPublicByDefault()
    {
        using var app = new PortalApiFactory();

        Assert.Equal(HttpStatusCode.OK, (await app.AnonymousClient().GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task OpenApi_NotPublic_NeedsAKeyWithRead()
    {
        using var app = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
            settings: new Dictionary<string, string?> { ["Portal:Api:PublicOpenApi"] = "false" });
        var (_, developer, _) = await app.ClientWithKeyAsync(Roles.Developer);

        var anonymous = await app.AnonymousClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        var writeOnly = await app.IssueKeyAsync(developer.Id, [Scopes.Write]);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientWithKey(writeOnly.Key).GetAsync("/openapi/v1.json")).StatusCode);

        var reader = await app.IssueKeyAsync(developer.Id, [Scopes.Read]);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientWithKey(reader.Key, asHeader: true).GetAsync("/openapi/v1.json")).StatusCode);
    }
}
