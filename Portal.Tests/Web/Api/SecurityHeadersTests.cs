using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Tests.Support;
using Portal.Web.Infrastructure;

namespace Portal.Tests.Web.Api;

/// <summary>Every answer's security headers; forwarded headers believed from configured proxies only.</summary>
public sealed partial class SecurityHeadersTests : IDisposable
{
    private const string Proxy = "10.0.0.5";
    private const string Client = "203.0.113.7";
    private const string PeerHeader = "X-Test-Peer";

    private readonly PortalApiFactory _app = new(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
        services => services.AddSingleton<IStartupFilter, PeerAddress>(),
        new Dictionary<string, string?> { ["Portal:ForwardedHeaders:KnownProxies"] = $"{Proxy}, 10.9.9.9", ["Portal:ForwardedHeaders:KnownNetworks"] = "192.168.50.0/24" });

    public void Dispose() => _app.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/no-such-page")]
    public async Task APage_CarriesTheContentSecurityPolicy_AndTheOtherHeaders(string path)
    {
        var response = await _app.AnonymousClient().GetAsync(path);

        AssertCommonHeaders(response);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("connect-src 'self'", csp);
        Assert.Contains("img-src 'self' data: https:", csp);
    }

    [Theory]
    [InlineData("/api/v1/me", true)]
    [InlineData("/api/v1/me", false)]
    [InlineData("/healthz", false)]
    [InlineData("/openapi/v1.json", false)]
    public async Task AnApiAnswer_CarriesNosniffAndTheOtherHeaders_ErrorsToo(string path, bool withKey)
    {
        var client = withKey ? (await _app.ClientWithKeyAsync(Roles.Developer)).Client : _app.AnonymousClient();

        var response = await client.GetAsync(path);

        AssertCommonHeaders(response);
    }

    [Fact]
    public async Task OverPlainHttp_NoStrictTransportSecurity()
    {
        var response = await SendAsync(HttpMethod.Get, "/account/login", peer: Client);

        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Theory]
    [InlineData(Proxy)]
    [InlineData("192.168.50.20")]
    public async Task FromAConfiguredProxy_ForwardedHttpsAndClientAddress_AreBelieved(string proxy)
    {
        var email = $"nobody-{Guid.NewGuid():N}@portal.test";
        var (form, cookie) = await GetFormAsync(proxy, forwarded: true);

        Assert.Equal("max-age=31536000", Assert.Single(form.Headers.GetValues("Strict-Transport-Security")));
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        await PostSignInAsync(form, cookie, email, proxy, forwarded: true);
        Assert.Equal(Client, await AuditedAddressAsync(email));
    }

    [Fact]
    public async Task FromAnyoneElse_ForwardedHeadersAreIgnored()
    {
        const string stranger = "10.0.0.99";
        var email = $"nobody-{Guid.NewGuid():N}@portal.test";
        var (form, cookie) = await GetFormAsync(stranger, forwarded: true);

        Assert.False(form.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        await PostSignInAsync(form, cookie, email, stranger, forwarded: true);
        Assert.Equal(stranger, await AuditedAddressAsync(email));
    }

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Contains("camera=()", Assert.Single(response.Headers.GetValues("Permissions-Policy")));
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string peer, bool forwarded = false,
        HttpContent? content = null, string? cookie = null)
    {
        var client = _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Host = "portal.example.test";
        request.Headers.Add(PeerHeader, peer);
        if (forwarded)
        {
            request.Headers.Add("X-Forwarded-For", Client);
            request.Headers.Add("X-Forwarded-Proto", "https");
        }
        if (cookie is not null) request.Headers.Add("Cookie", cookie);
        return await client.SendAsync(request);
    }

    /// <summary>The sign-in form and its antiforgery cookie (name=value, with its attributes for the Secure check).</summary>
    private async Task<(HttpResponseMessage Form, string Cookie)> GetFormAsync(string peer, bool forwarded)
    {
        var form = await SendAsync(HttpMethod.Get, "/account/login", peer, forwarded);
        var cookie = form.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(".AspNetCore.Antiforgery", StringComparison.Ordinal));
        return (form, cookie);
    }

    private async Task PostSignInAsync(HttpResponseMessage form, string cookie, string email, string peer, bool forwarded)
    {
        var token = AntiforgeryToken().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value;
        var posted = await SendAsync(HttpMethod.Post, "/account/login", peer, forwarded, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["_handler"] = "login", ["Input.Email"] = email, ["Input.Password"] = "wrong-password",
        }), cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
    }

    private async Task<string?> AuditedAddressAsync(string email)
    {
        await using var db = await _app.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.Audit.Where(a => a.Action == AuditActions.SignInFailed && a.ActorEmail == email).Select(a => a.IpAddress).SingleAsync();
    }

    /// <summary>The connection's address, as a test names it (the test server has none): who sent the forwarded headers.</summary>
    private sealed class PeerAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, nextMiddleware) =>
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse(http.Request.Headers[PeerHeader].FirstOrDefault() ?? "127.0.0.1");
                return nextMiddleware(http);
            });
            next(app);
        };
    }
}
