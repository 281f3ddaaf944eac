using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Gateway;

/// <summary><c>ANY /gateway/{slug}/{**path}</c> against a real upstream Kestrel server, with real keys.</summary>
public sealed class GatewayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private UpstreamServer Upstream => fixture.Upstream;

    private HttpClient WithBearer(string key) => fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key));

    /// <summary>A client of the portal's API with a real key of a new user of <paramref name="role"/>.</summary>
    private async Task<HttpClient> ApiClientAsync(string role) => WithBearer((await fixture.Portal.ClientWithKeyAsync(role)).Key.Key);

    private static async Task<JsonElement> ProblemOf(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private int SeenWith(string marker) => Upstream.Requests.Count(r => r.PathAndQuery.Contains(marker, StringComparison.Ordinal));

    [Fact]
    public async Task Valid_ForwardsPathAndQuery_WithPortalHeaders_AndRateLimitHeaders()
    {
        var s = await fixture.SubscribedAsync(rateLimit: 100, quota: 1000);
        var marker = Guid.NewGuid().ToString("N");
        using var client = WithBearer(s.Key);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/gateway/{s.Slug}/items/{marker}?city=Oslo&token=secret");
        request.Headers.Add("Cookie", ".AspNetCore.Identity.Application=abc");
        request.Headers.Add("X-Portal-Plan", "Forged");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"GET /base/items/{marker}?city=Oslo&token=secret", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Headers.GetValues("X-Upstream").Single());
        var now = DateTime.UtcNow;
        var month = DateTime.DaysInMonth(now.Year, now.Month) * 86400;
        Assert.Equal($"\"rate\";q=100;w=1, \"quota\";q=1000;w={month}", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Contains("\"quota\";r=999;", response.Headers.GetValues("RateLimit").Single());

        var seen = Upstream.Requests.Single(r => r.PathAndQuery.Contains(marker, StringComparison.Ordinal));
        Assert.False(seen.Headers.ContainsKey("Authorization"));
        Assert.False(seen.Headers.ContainsKey("Cookie"));
        Assert.Equal(s.ApplicationId.ToString(), seen.Headers["X-Portal-Application-Id"]);
        Assert.Equal(s.AccountId.ToString(), seen.Headers["X-Portal-Account-Id"]);
        Assert.Equal("Pro", seen.Headers["X-Portal-Plan"]);
        Assert.Equal(s.SubscriptionId.ToString(), seen.Headers["X-Portal-Subscription-Id"]);
        Assert.Equal("127.0.0.1", seen.Headers["X-Forwarded-For"]);
        Assert.Equal("http", seen.Headers["X-Forwarded-Proto"]);
        Assert.Equal(fixture.PortalAddress.Authority, seen.Headers["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task XApiKey_AndBasicWithKeyId_AreAccepted_BasicWithAnotherId_Is401()
    {
        var s = await fixture.SubscribedAsync();
        using var byHeader = fixture.Client(c => c.DefaultRequestHeaders.Add("X-Api-Key", s.Key));
        Assert.Equal(HttpStatusCode.OK, (await byHeader.GetAsync($"/gateway/{s.Slug}/a")).StatusCode);
        Assert.False(Upstream.Requests.Last().Headers.ContainsKey("X-Api-Key"));

        using var basic = fixture.Client(c => c.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{s.KeyId}:{s.Key}"))));
        Assert.Equal(HttpStatusCode.OK, (await basic.GetAsync($"/gateway/{s.Slug}/a")).StatusCode);

        using var wrongId = fixture.Client(c => c.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Guid.NewGuid()}:{s.Key}"))));
        var refused = await wrongId.GetAsync($"/gateway/{s.Slug}/a");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("NOT_FOUND", (await ProblemOf(refused)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task UpstreamCredential_ReplacesTheConsumersAuthorization_AndIsWriteOnlyInTheApi()
    {
        var s = await fixture.SubscribedAsync();
        using var admin = await ApiClientAsync(Roles.Admin);
        var patch = await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}",
            new { upstreamCredential = new { header = "Authorization", value = "Bearer backend-secret" } });
        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var patched = await patch.Content.ReadAsStringAsync();
        Assert.DoesNotContain("backend-secret", patched);
        var shown = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/products/{s.ProductId}");
        Assert.Equal("Authorization", shown.GetProperty("upstreamCredential").GetProperty("header").GetString());
        Assert.True(shown.GetProperty("upstreamCredential").GetProperty("valueSet").GetBoolean());
        Assert.DoesNotContain("backend-secret", shown.GetRawText());
        await using (var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            Assert.DoesNotContain("backend-secret", (await db.Products.SingleAsync(p => p.Id == s.ProductId)).UpstreamCredentialProtected);

        var marker = Guid.NewGuid().ToString("N");
        using var client = WithBearer(s.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/gateway/{s.Slug}/{marker}")).StatusCode);
        var seen = Upstream.Requests.Single(r => r.PathAndQuery.Contains(marker, StringComparison.Ordinal));
        Assert.Equal("Bearer backend-secret", seen.Headers["Authorization"]);

        // A developer sees neither the upstream nor the credential.
        using var developer = await ApiClientAsync(Roles.Developer);
        var asDeveloper = await developer.GetFromJsonAsync<JsonElement>($"/api/v1/products/{s.Slug}");
        Assert.Equal(JsonValueKind.Null, asDeveloper.GetProperty("upstreamCredential").ValueKind);
        Assert.Equal(JsonValueKind.Null, asDeveloper.GetProperty("upstreamUrl").ValueKind);
        // A developer may not set one.
        Assert.Equal(HttpStatusCode.Forbidden, (await developer.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}",
            new { upstreamCredential = new { header = "Authorization", value = "x" } })).StatusCode);

        var cleared = await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { clearUpstreamCredential = true });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.False((await cleared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("upstreamCredential").GetProperty("valueSet").GetBoolean());
        var after = Guid.NewGuid().ToString("N");
        await client.GetAsync($"/gateway/{s.Slug}/{after}");
        Assert.False(Upstream.Requests.Single(r => r.PathAndQuery.Contains(after, StringComparison.Ordinal)).Headers.ContainsKey("Authorization"));

        var bad = await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { upstreamCredential = new { header = "X-Portal-Plan", value = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Refusals_HaveTheirStatusCodeAndHeaders_AndNeverReachTheUpstream()
    {
        var s = await fixture.SubscribedAsync();
        var other = await fixture.SubscribedAsync();
        var before = Upstream.Count;

        using var anonymous = fixture.Client();
        var noKey = await anonymous.GetAsync($"/gateway/{s.Slug}/x");
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains("Bearer", noKey.Headers.WwwAuthenticate.ToString());
        Assert.Equal("NOT_FOUND", (await ProblemOf(noKey)).GetProperty("code").GetString());

        using var unknown = WithBearer("ptl_not_a_key");
        var unknownKey = await unknown.GetAsync($"/gateway/{s.Slug}/x");
        Assert.Equal(HttpStatusCode.Unauthorized, unknownKey.StatusCode);
        Assert.NotEmpty(unknownKey.Headers.WwwAuthenticate);

        using var otherApp = WithBearer(other.Key);
        var notSubscribed = await otherApp.GetAsync($"/gateway/{s.Slug}/x");
        Assert.Equal(HttpStatusCode.Forbidden, notSubscribed.StatusCode);
        var problem = await ProblemOf(notSubscribed);
        Assert.Equal("NOT_SUBSCRIBED", problem.GetProperty("code").GetString());
        Assert.Contains("Subscribe", problem.GetProperty("detail").GetString());

        using var client = WithBearer(s.Key);
        var noProduct = await client.GetAsync("/gateway/no-such-product/x");
        Assert.Equal(HttpStatusCode.NotFound, noProduct.StatusCode);
        Assert.Equal("NOT_FOUND", (await ProblemOf(noProduct)).GetProperty("code").GetString());

        var draft = await fixture.SubscribedAsync(published: false);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/gateway/{draft.Slug}/x")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/gateway/{draft.Slug}/x")).StatusCode);
        using var draftClient = WithBearer(draft.Key);
        Assert.Equal(HttpStatusCode.OK, (await draftClient.GetAsync($"/gateway/{draft.Slug}/x")).StatusCode); // subscribed: served
        before++;

        await using (var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            await db.Accounts.Where(a => a.Id == s.AccountId).ExecuteUpdateAsync(u => u.SetProperty(a => a.Status, AccountStatus.Suspended));
        fixture.Portal.Get<VerificationCache>().Invalidate();
        var disabled = await client.GetAsync($"/gateway/{s.Slug}/x");
        Assert.Equal(HttpStatusCode.Forbidden, disabled.StatusCode);
        Assert.Equal("DISABLED", (await ProblemOf(disabled)).GetProperty("code").GetString());

        var revoked = await fixture.SubscribedAsync();
        Assert.True((await fixture.Portal.Get<Portal.Core.Features.Applications.ApplicationService>().RevokeKeyAsync(Actor.System, revoked.ApplicationId, revoked.KeyId)).IsSuccess);
        using var revokedClient = WithBearer(revoked.Key);
        var revokedAnswer = await revokedClient.GetAsync($"/gateway/{revoked.Slug}/x");
        Assert.Equal(HttpStatusCode.Unauthorized, revokedAnswer.StatusCode);
        Assert.Equal("REVOKED", (await ProblemOf(revokedAnswer)).GetProperty("code").GetString());

        Assert.Equal(before, Upstream.Count);
    }

    [Fact]
    public async Task RateLimited_And_QuotaExceeded_Are429_WithRetryAfter_AndRefusedCallsCountNothing()
    {
        var limited = await fixture.SubscribedAsync(rateLimit: 1, window: RateLimitWindow.Minute);
        using var client = WithBearer(limited.Key);
        var first = await client.GetAsync($"/gateway/{limited.Slug}/x");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var second = await client.GetAsync($"/gateway/{limited.Slug}/x");
        if (second.StatusCode == HttpStatusCode.OK) second = await client.GetAsync($"/gateway/{limited.Slug}/x"); // the minute turned
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.InRange(int.Parse(second.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.StartsWith("\"rate\";q=1;w=60", second.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"rate\";r=0;t=", second.Headers.GetValues("RateLimit").Single());
        Assert.Equal("RATE_LIMITED", (await ProblemOf(second)).GetProperty("code").GetString());

        var quota = await fixture.SubscribedAsync(quota: 2);
        using var quotaClient = WithBearer(quota.Key);
        Assert.Equal(HttpStatusCode.OK, (await quotaClient.GetAsync($"/gateway/{quota.Slug}/x")).StatusCode);
        // A refused call (no such product for this key) costs nothing.
        using var stranger = WithBearer(limited.Key);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"/gateway/{quota.Slug}/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await quotaClient.GetAsync($"/gateway/{quota.Slug}/x")).StatusCode);
        var over = await quotaClient.GetAsync($"/gateway/{quota.Slug}/x");
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.Equal("QUOTA_EXCEEDED", (await ProblemOf(over)).GetProperty("code").GetString());
        Assert.True(over.Headers.Contains("Retry-After"));
        Assert.StartsWith("\"quota\";r=0;t=", over.Headers.GetValues("RateLimit").Single());
    }

    [Fact]
    public async Task UnreachableUpstream_Is502_SlowUpstream_Is504_ProblemDetails()
    {
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var down = await fixture.SubscribedAsync(upstream: $"http://127.0.0.1:{closedPort}");
        using var client = WithBearer(down.Key);
        var unreachable = await client.GetAsync($"/gateway/{down.Slug}/x");
        Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);
        Assert.Equal("UPSTREAM_UNREACHABLE", (await ProblemOf(unreachable)).GetProperty("code").GetString());

        var slow = await fixture.SubscribedAsync(timeoutSeconds: 1, upstream: Upstream.BaseUrl);
        using var slowClient = WithBearer(slow.Key);
        var started = DateTimeOffset.UtcNow;
        var timedOut = await slowClient.GetAsync($"/gateway/{slow.Slug}/slow?ms=10000");
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        Assert.Equal("UPSTREAM_TIMEOUT", (await ProblemOf(timedOut)).GetProperty("code").GetString());
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task LinkLocalUpstream_IsRefused_WhenSaved_AndWhenConnecting()
    {
        using var admin = await ApiClientAsync(Roles.Admin);
        var s = await fixture.SubscribedAsync();
        var saved = await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { upstreamUrl = "http://169.254.169.254/latest" });
        Assert.Equal(HttpStatusCode.BadRequest, saved.StatusCode);

        // Written past the service (as an old row could be): refused when connecting.
        var direct = await fixture.SubscribedAsync(upstream: "http://169.254.169.254/latest");
        using var client = WithBearer(direct.Key);
        var answer = await client.GetAsync($"/gateway/{direct.Slug}/meta-data");
        Assert.Equal(HttpStatusCode.BadGateway, answer.StatusCode);
        Assert.Equal("UPSTREAM_REFUSED", (await ProblemOf(answer)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413_ByLength_AndWhenStreamedWithoutOne()
    {
        var s = await fixture.SubscribedAsync(upstream: Upstream.BaseUrl, maxBody: 64 * 1024);
        using var client = WithBearer(s.Key);
        var before = Upstream.Count;
        var declared = await client.PostAsync($"/gateway/{s.Slug}/upload", new ByteArrayContent(new byte[100 * 1024]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal("BODY_TOO_LARGE", (await ProblemOf(declared)).GetProperty("code").GetString());
        Assert.Equal(before, Upstream.Count);

        using var chunkedClient = WithBearer(s.Key);
        var streamed = new StreamContent(new MemoryStream(new byte[1024 * 1024]));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/gateway/{s.Slug}/upload") { Content = streamed };
        request.Headers.TransferEncodingChunked = true;
        var answer = await chunkedClient.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.StatusCode);

        var small = await client.PostAsync($"/gateway/{s.Slug}/upload", new ByteArrayContent(new byte[1000]));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal("1000", await small.Content.ReadAsStringAsync());
    }

    /// <summary>A body that takes its time: the upstream must see its start before the caller has sent its end.</summary>
    private sealed class SlowBody(long total, TimeSpan pauseAfterFirst) : HttpContent
    {
        public DateTimeOffset FinishedAt { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var chunk = new byte[256 * 1024];
            long sent = 0;
            var first = true;
            while (sent < total)
            {
                var n = (int)Math.Min(chunk.Length, total - sent);
                await stream.WriteAsync(chunk.AsMemory(0, n));
                await stream.FlushAsync();
                sent += n;
                if (first)
                {
                    first = false;
                    await Task.Delay(pauseAfterFirst);
                }
            }
            FinishedAt = DateTimeOffset.UtcNow;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = total;
            return true;
        }
    }

    [Fact]
    public async Task LargeBodies_Stream_BothWays()
    {
        const long size = 50L * 1024 * 1024;
        var s = await fixture.SubscribedAsync(upstream: Upstream.BaseUrl, maxBody: 100L * 1024 * 1024);
        using var client = WithBearer(s.Key);

        var body = new SlowBody(size, TimeSpan.FromSeconds(2)); // two seconds: room for a busy machine to pass the first bytes on
        var upload = await client.PostAsync($"/gateway/{s.Slug}/upload", body);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal(size.ToString(), await upload.Content.ReadAsStringAsync());
        // Streamed: the upstream had the first bytes while the caller was still sending.
        Assert.True(Upstream.UploadFirstByteAt < body.FinishedAt.AddMilliseconds(-500), $"{Upstream.UploadFirstByteAt:O} vs {body.FinishedAt:O}");

        using var download = await client.GetAsync($"/gateway/{s.Slug}/download?bytes={size}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        await using var stream = await download.Content.ReadAsStreamAsync();
        var buffer = new byte[1024 * 1024];
        long received = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0) received += read;
        Assert.Equal(size, received);

        var events = await fixture.UsageOfAsync(s.ProductId, atLeast: 2);
        Assert.Contains(events, e => e.RequestBytes == size && e.Path!.EndsWith("/upload", StringComparison.Ordinal));
        Assert.Contains(events, e => e.ResponseBytes == size && e.Path!.EndsWith("/download?bytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryCall_IsOneUsageEvent_WithPathWithoutQueryValues_BytesAndLatencies()
    {
        var s = await fixture.SubscribedAsync(upstream: Upstream.BaseUrl);
        using var client = WithBearer(s.Key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/gateway/{s.Slug}/orders/42?token=s3cret&page=2", new StringContent("{\"a\":1}"))).StatusCode);
        using var anonymous = fixture.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/gateway/{s.Slug}/orders")).StatusCode);

        var events = await fixture.UsageOfAsync(s.ProductId, atLeast: 1);
        Assert.Single(events);
        var ok = events[0];
        Assert.Equal(UsageSource.Gateway, ok.Source);
        Assert.Equal($"/gateway/{s.Slug}/orders/42?token&page", ok.Path);
        Assert.DoesNotContain("s3cret", ok.Path);
        Assert.Equal("POST", ok.Method);
        Assert.Equal(200, ok.Status);
        Assert.Equal("VALID", ok.Outcome);
        Assert.Equal(s.KeyId, ok.KeyId);
        Assert.Equal(s.ApplicationId, ok.ApplicationId);
        Assert.Equal(s.AccountId, ok.AccountId);
        Assert.Equal(7, ok.RequestBytes);
        Assert.Equal($"POST /orders/42?token=s3cret&page=2".Length, ok.ResponseBytes);
        Assert.NotNull(ok.UpstreamLatencyMs);

        // The request log filters by source; a gateway call counts in its key's hourly usage.
        using var admin = await ApiClientAsync(Roles.Admin);
        var log = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/usage/requests?source=gateway&productId={s.ProductId}");
        Assert.Equal(1, log.GetProperty("total").GetInt32());
        Assert.Equal("Gateway", log.GetProperty("items")[0].GetProperty("source").GetString());
        var none = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/usage/requests?source=api&productId={s.ProductId}");
        Assert.Equal(0, none.GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/usage/requests?source=nonsense")).StatusCode);
        await using var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.UsageRollups.Where(r => r.KeyId == s.KeyId).SumAsync(r => r.Count));
        // The call without a key is one too, counted per minute with the unknown keys' refusals, not a row of its own.
        Assert.True(await db.UsageRefusalMinutes.AnyAsync(r => r.Source == "Gateway" && r.Outcome == "NOT_FOUND" && r.Count >= 1));
    }

    [Fact]
    public async Task EditingAProductsUpstream_TakesEffectOnTheNextCall()
    {
        var s = await fixture.SubscribedAsync(upstream: Upstream.BaseUrl + "/one");
        using var client = WithBearer(s.Key);
        Assert.Equal("GET /one/x", await client.GetStringAsync($"/gateway/{s.Slug}/x"));

        using var admin = await ApiClientAsync(Roles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { upstreamUrl = Upstream.BaseUrl + "/two" })).StatusCode);
        Assert.Equal("GET /two/x", await client.GetStringAsync($"/gateway/{s.Slug}/x"));

        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { upstreamTimeoutSeconds = 5, maxRequestBodyBytes = 2048 })).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync($"/gateway/{s.Slug}/x", new ByteArrayContent(new byte[4096]))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PatchAsJsonAsync($"/api/v1/products/{s.ProductId}", new { upstreamTimeoutSeconds = 0 })).StatusCode);
    }

    [Fact]
    public async Task CreatingUnpublishingAndDeletingAProduct_TakeEffectOnTheNextCall()
    {
        var stranger = await fixture.SubscribedAsync();
        using var client = WithBearer(stranger.Key);
        using var admin = await ApiClientAsync(Roles.Admin);
        var name = $"Routed {Guid.NewGuid():N}"[..20];
        var created = await admin.PostAsJsonAsync("/api/v1/products", new
        {
            name, upstreamUrl = Upstream.BaseUrl, published = true, plans = new object[] { new { name = "Free", type = "Free" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var product = await created.Content.ReadFromJsonAsync<JsonElement>();
        var (id, slug) = (product.GetProperty("id").GetString(), product.GetProperty("slug").GetString());

        // Routed at once: a caller without a subscription learns it exists and is told to subscribe.
        Assert.Equal("NOT_SUBSCRIBED", (await ProblemOf(await client.GetAsync($"/gateway/{slug}/x"))).GetProperty("code").GetString());

        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new { published = false })).StatusCode);
        var unpublished = await client.GetAsync($"/gateway/{slug}/x");
        Assert.Equal(HttpStatusCode.NotFound, unpublished.StatusCode); // a draft is not revealed to those it does not serve

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/products/{id}")).StatusCode);
        var deleted = await client.GetAsync($"/gateway/{slug}/x");
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
        Assert.Contains("No product", (await ProblemOf(deleted)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task CallerHeaders_PosingAsTheGateways_AreRemoved_AndXForwardedForIsAppendedTo()
    {
        var s = await fixture.SubscribedAsync();
        var marker = Guid.NewGuid().ToString("N");
        using var client = WithBearer(s.Key);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/gateway/{s.Slug}/{marker}");
        request.Headers.Add("X-Portal-User-Id", "forged");
        request.Headers.Add("X-Portal-Account-Id", Guid.NewGuid().ToString());
        request.Headers.Add(Portal.Web.Features.Gateway.GatewayMiddleware.TryItHeader, "not-a-ticket");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("Forwarded", "for=198.51.100.1");
        request.Headers.Add("X-Request-Id", "kept");

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);

        var seen = Upstream.Requests.Single(r => r.PathAndQuery.Contains(marker, StringComparison.Ordinal));
        Assert.DoesNotContain(seen.Headers.Keys, h => h.Equals("X-Portal-User-Id", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(seen.Headers.Keys, h => h.Equals(Portal.Web.Features.Gateway.GatewayMiddleware.TryItHeader, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(seen.Headers.Keys, h => h.Equals("Forwarded", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(s.AccountId.ToString(), seen.Headers["X-Portal-Account-Id"]);
        Assert.Equal("203.0.113.9, 127.0.0.1", seen.Headers["X-Forwarded-For"]);
        Assert.Equal(fixture.PortalAddress.Authority, seen.Headers["X-Forwarded-Host"]);
        Assert.Equal("http", seen.Headers["X-Forwarded-Proto"]);
        Assert.Equal("kept", seen.Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task RefusedCalls_OfEveryKind_NeverCountAgainstTheQuota()
    {
        var s = await fixture.SubscribedAsync(rateLimit: 1, window: RateLimitWindow.Minute, quota: 10, maxBody: 1024);
        using var client = WithBearer(s.Key);
        // All within one minute's window, so no refused call is let through by a new window.
        if (DateTime.UtcNow.Second >= 50) await Task.Delay(TimeSpan.FromSeconds(61 - DateTime.UtcNow.Second));
        var first = await client.GetAsync($"/gateway/{s.Slug}/x");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("\"quota\";r=9;", first.Headers.GetValues("RateLimit").Single());
        var before = Upstream.Count;

        // Over the rate limit, over the body limit by its declared length, a wrong Basic user name, no key at all.
        for (var i = 0; i < 3; i++)
        {
            var limited = await client.GetAsync($"/gateway/{s.Slug}/x");
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            // The refused call's own answer shows the quota as the valid call left it.
            Assert.Contains("\"quota\";r=9;", limited.Headers.GetValues("RateLimit").Single());
        }
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsync($"/gateway/{s.Slug}/x", new ByteArrayContent(new byte[4096]))).StatusCode);
        using var wrongId = fixture.Client(c => c.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Guid.NewGuid()}:{s.Key}"))));
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongId.GetAsync($"/gateway/{s.Slug}/x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Client().GetAsync($"/gateway/{s.Slug}/x")).StatusCode);

        Assert.Equal(before, Upstream.Count);
        await fixture.Portal.Get<ILimitStore>().FlushAsync();
        await using var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(1, await db.QuotaCounters.Where(q => q.SubscriptionId == s.SubscriptionId).SumAsync(q => q.Used));
    }
}

/// <summary>Plans applied exactly to real traffic, counted where it arrives: at the upstream.</summary>
public sealed class GatewayExactnessTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private int SeenWith(string marker) => fixture.Upstream.Requests.Count(r => r.PathAndQuery.Contains(marker, StringComparison.Ordinal));

    [Fact]
    public async Task Quota_With200ConcurrentCallers_LetsExactlyQReachTheUpstream()
    {
        const int quota = 57;
        var s = await fixture.SubscribedAsync(quota: quota);
        var marker = Guid.NewGuid().ToString("N");
        using var client = fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", s.Key));
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return (await client.GetAsync($"/gateway/{s.Slug}/{marker}")).StatusCode;
        })).ToList();
        start.Set();
        var statuses = await Task.WhenAll(calls);

        Assert.Equal(quota, statuses.Count(c => c == HttpStatusCode.OK));
        Assert.Equal(200 - quota, statuses.Count(c => c == HttpStatusCode.TooManyRequests));
        Assert.Equal(quota, SeenWith(marker));
    }

    [Theory]
    [InlineData(RateLimitWindow.Second, 7)]
    [InlineData(RateLimitWindow.Minute, 11)]
    public async Task RateLimit_LetsExactlyLReachTheUpstreamPerWindow(RateLimitWindow window, int limit)
    {
        var s = await fixture.SubscribedAsync(rateLimit: limit, window: window);
        using var client = fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", s.Key));
        var length = window == RateLimitWindow.Second ? TimeSpan.FromSeconds(1) : TimeSpan.FromMinutes(1);
        List<HttpStatusCode> statuses = [];
        var marker = "";
        // A burst that straddles two windows proves nothing: it is sent again (a busy machine may need a second try).
        for (var attempt = 0; attempt < 4; attempt++)
        {
            // Start just after a window begins (windows are aligned to the clock), so the burst falls in one window.
            var now = DateTimeOffset.UtcNow;
            var next = new DateTimeOffset(now.UtcTicks - now.UtcTicks % length.Ticks, TimeSpan.Zero) + length;
            if (window == RateLimitWindow.Second || (next - now) < TimeSpan.FromSeconds(20)) await Task.Delay(next - now + TimeSpan.FromMilliseconds(10));
            var windowIndex = DateTimeOffset.UtcNow.UtcTicks / length.Ticks;
            marker = Guid.NewGuid().ToString("N");
            var calls = Enumerable.Range(0, limit * 4).Select(_ => client.GetAsync($"/gateway/{s.Slug}/{marker}")).ToList();
            statuses = [.. (await Task.WhenAll(calls)).Select(r => r.StatusCode)];
            if (windowIndex == DateTimeOffset.UtcNow.UtcTicks / length.Ticks) break;
        }

        Assert.Equal(limit, statuses.Count(c => c == HttpStatusCode.OK));
        Assert.Equal(limit * 3, statuses.Count(c => c == HttpStatusCode.TooManyRequests));
        Assert.Equal(limit, SeenWith(marker));
    }
}
