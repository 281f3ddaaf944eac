using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Gateway;

/// <summary>
/// The usage overview and the dashboard count gateway traffic beside API calls and verifications: calls, outcome
/// figures and top lists. A fixture of its own, so the portal-wide figures hold only this test's calls.
/// </summary>
public sealed class GatewayUsageOverviewTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task Overview_CountsGatewayCalls_WithApiCallsAndVerifications_ByOutcomeAndProduct()
    {
        var s = await fixture.SubscribedAsync(maxBody: 1024);
        var root = await fixture.Portal.RootAsync();
        using var withKey = fixture.Client(c => c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", s.Key));
        using var anonymous = fixture.Client();

        // One API call with the application key, one verification of it, and five gateway calls: two forwarded, one
        // without a key (401), one whose declared body is over the product's limit (413), one to no product (404).
        Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/v1/me")).StatusCode);
        Assert.True((await fixture.Portal.Get<VerificationService>().VerifyAsync(root, new VerifyKey { Key = s.Key, Product = s.Slug })).Value.Valid);
        Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync($"/gateway/{s.Slug}/a")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await withKey.PostAsync($"/gateway/{s.Slug}/b", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/gateway/{s.Slug}/a")).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await withKey.PostAsync($"/gateway/{s.Slug}/b", new ByteArrayContent(new byte[4096]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await withKey.GetAsync("/gateway/no-such-product/a")).StatusCode);

        // The two calls with no known key (no key; a key asking for no product) are counted per minute with the unknown
        // keys' refusals (so a flood of them stays cheap), not as rows of their own; the rollups below still count them.
        var events = await fixture.UsageOfAsync(s.ProductId, atLeast: 4);
        Assert.Equal(4, events.Count);
        await WaitForEventsAsync(5);
        await using (var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            // Every gateway row carries the code it was answered with, refusals before a verdict too.
            var gateway = await db.UsageEvents.Where(e => e.Source == UsageSource.Gateway).OrderBy(e => e.Id).Select(e => new { e.Status, e.Outcome, e.ProductId }).ToListAsync();
            Assert.Equal([(200, "VALID"), (200, "VALID"), (413, "BODY_TOO_LARGE")], gateway.Select(g => (g.Status, g.Outcome)));
            Assert.Equal(2, await db.UsageRefusalMinutes.Where(r => r.Source == "Gateway" && r.Outcome == "NOT_FOUND").SumAsync(r => r.Count));
        }

        var summary = (await fixture.Portal.Get<UsageService>().SummaryAsync(root, new UsageSummaryQuery())).Value;
        // Calls are the calls made with a key: the API call, the verification and the two forwarded calls.
        Assert.Equal(4, summary.Calls);
        // Outcomes: the verification and every gateway call.
        Assert.Equal(6, summary.Verifications.Total);
        Assert.Equal(3, summary.Verifications.Valid);
        Assert.Equal([("NOT_FOUND", 2L), ("VALID", 3L), ("BODY_TOO_LARGE", 1L)],
            summary.Verifications.ByCode.OrderBy(c => c.Code == "VALID" ? 1 : c.Code == "NOT_FOUND" ? 0 : 2).Select(c => (c.Code, c.Count)));
        // The product's calls: the verification and the four gateway calls that named it.
        var product = Assert.Single(summary.TopProducts);
        Assert.Equal((s.ProductId, 5L), (product.Id, product.Calls));
        Assert.Equal((s.ApplicationId, 4L), (summary.TopApplications.Single().Id, summary.TopApplications.Single().Calls));
        Assert.Equal((s.KeyId, 4L), (summary.TopKeys.Single().Id, summary.TopKeys.Single().Calls));

        // The dashboard's chart reads the same calls.
        Assert.Equal(4, (await fixture.Portal.Get<UsageService>().CallsAsync(root, new UsageSummaryQuery())).Value.Calls);

        // The request log tells the three sources apart.
        using var admin = fixture.Client(c => c.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", fixture.Portal.IssueKeyAsync(root.UserId, [Scopes.Read]).GetAwaiter().GetResult().Key));
        // (By the application's key for the API: the admin's own reads of the log are API calls too.)
        foreach (var (query, total) in new[] { ("source=gateway", 3), ("source=verification", 1), ($"source=api&keyId={s.KeyId}", 1), ($"source=gateway&keyId={s.KeyId}", 2) })
        {
            var log = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/usage/requests?{query}");
            Assert.True(log.GetProperty("total").GetInt32() == total, $"{query}: {log.GetProperty("total")}");
        }
    }

    /// <summary>Until the writer has written at least this many events in all (the API call has no product).</summary>
    private async Task WaitForEventsAsync(int atLeast)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await fixture.Portal.Get<UsageWriter>().DrainAsync();
            await using var db = await fixture.Portal.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
            if (await db.UsageEvents.CountAsync() >= atLeast || waited.Elapsed > TimeSpan.FromSeconds(10)) return;
            await Task.Delay(50);
        }
    }
}
