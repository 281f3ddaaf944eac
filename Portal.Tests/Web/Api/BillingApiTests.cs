using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary><c>/api/v1/billing/statements</c> with real keys, over the real clock (this month open, last month closed).</summary>
public sealed class BillingApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static string ThisMonth => BillingMonth.Name(DateTimeOffset.UtcNow);
    private static string LastMonth => BillingMonth.Name(BillableUsage.MonthStart(DateTimeOffset.UtcNow).AddMonths(-1));
    private static string NextMonth => BillingMonth.Name(BillableUsage.MonthStart(DateTimeOffset.UtcNow).AddMonths(1));

    private sealed record Developer(HttpClient Client, Guid AccountId, string AppKey, string Slug, Guid SubscriptionId, Guid PlanId);

    /// <summary>A developer (read key) with an application subscribed, APPROVED since last month, to a metered product at 0.01 a call.</summary>
    private async Task<Developer> DeveloperAsync(long? quota = null)
    {
        var (client, user, _) = await factory.ClientWithKeyAsync(Roles.Developer, Scopes.Read);
        var created = (await factory.Get<ApplicationService>().CreateAsync(new Actor(user.Id, user.Email, user.Roles),
            new CreateApplication { Name = "Billing app" })).Value;
        var slug = $"billed-{Guid.NewGuid():N}"[..20];
        var plan = new Plan { Name = "Metered", Type = PlanType.Metered, UnitPrice = 0.01m, Currency = "USD", Quota = quota, QuotaPeriod = QuotaPeriod.Month };
        var product = new ApiProduct { Name = slug, Slug = slug, Published = true, Plans = [plan] };
        var approved = BillableUsage.MonthStart(DateTimeOffset.UtcNow).AddMonths(-1).AddDays(1);
        var subscription = new Subscription
        {
            ApplicationId = created.Application.Id, ApplicationName = created.Application.Name, AccountId = created.Application.AccountId,
            ProductId = product.Id, PlanId = plan.Id, Status = SubscriptionStatus.Approved, CreatedAt = approved, DecidedAt = approved,
        };
        await using var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.Products.Add(product);
        db.Subscriptions.Add(subscription);
        await db.SaveChangesAsync();
        factory.Get<VerificationCache>().Invalidate();
        return new Developer(client, created.Application.AccountId, created.Key.Key, slug, subscription.Id, plan.Id);
    }

    private async Task CountAsync(Guid subscriptionId, string month, long used)
    {
        await using var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = subscriptionId, PeriodStart = BillingMonth.Parse(month)!.Value, Used = used });
        await db.SaveChangesAsync();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        Assert.True(response.StatusCode == expected, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task BillableCalls_EqualTheValidAnswers_OfAConcurrentRunOfVerifications()
    {
        var dev = await DeveloperAsync(quota: 120);
        var gateway = (await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read)).Client;

        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Task.Run(async () =>
            (await JsonAsync(await gateway.PostAsJsonAsync("/api/v1/keys/verify", new { key = dev.AppKey, product = dev.Slug }))).GetProperty("code").GetString())));
        await factory.Get<ILimitStore>().FlushAsync();

        var valid = answers.Count(c => c == "VALID");
        Assert.Equal(120, valid);
        Assert.Equal(180, answers.Count(c => c == "QUOTA_EXCEEDED"));
        var statement = await JsonAsync(await dev.Client.GetAsync($"/api/v1/billing/statements/{dev.AccountId}/{ThisMonth}"));
        var line = Assert.Single(statement.GetProperty("lines").EnumerateArray());
        Assert.Equal(valid, line.GetProperty("calls").GetInt64());
        Assert.Equal(1.20m, line.GetProperty("amount").GetDecimal());
        Assert.Equal("estimate", statement.GetProperty("status").GetString());
        Assert.True(statement.GetProperty("projection").GetProperty("totals")[0].GetProperty("amount").GetDecimal() >= 1.20m);
    }

    [Fact]
    public async Task Statement_AsCsv_HasAHeaderAndARowPerLine()
    {
        var dev = await DeveloperAsync();
        await CountAsync(dev.SubscriptionId, LastMonth, 2500);

        var response = await dev.Client.GetAsync($"/api/v1/billing/statements/{dev.AccountId}/{LastMonth}?format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("month,status,revision,accountId,accountName,subscriptionId,", lines[0]);
        var row = Assert.Single(lines[1..]);
        Assert.StartsWith($"{LastMonth},closed,1,{dev.AccountId},", row);
        Assert.Contains($",{dev.SubscriptionId},", row);
        Assert.Contains(",2500,USD,25.00,", row);
    }

    [Fact]
    public async Task Month_MalformedOrInTheFuture_Is400_WithTheField()
    {
        var dev = await DeveloperAsync();
        foreach (var month in new[] { "2026-13", "last-month", NextMonth })
        {
            var problem = await JsonAsync(await dev.Client.GetAsync($"/api/v1/billing/statements/{dev.AccountId}/{month}"), HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("month", out _), month);
            await JsonAsync(await dev.Client.GetAsync($"/api/v1/billing/statements?month={month}"), HttpStatusCode.BadRequest);
        }
    }

    [Fact]
    public async Task Developer_GetsTheirAccountsOnly_AnotherAccountIs404()
    {
        var mine = await DeveloperAsync();
        var theirs = await DeveloperAsync();

        await JsonAsync(await mine.Client.GetAsync($"/api/v1/billing/statements/{theirs.AccountId}/{ThisMonth}"), HttpStatusCode.NotFound);
        var list = await JsonAsync(await mine.Client.GetAsync($"/api/v1/billing/statements?month={ThisMonth}"));
        Assert.Equal([mine.AccountId], list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("accountId").GetGuid()));
        Assert.Equal(1, list.GetProperty("total").GetInt32());

        var readOnly = (await factory.ClientWithKeyAsync(Roles.ReadOnly, Scopes.Read)).Client;
        var all = await JsonAsync(await readOnly.GetAsync($"/api/v1/billing/statements?month={ThisMonth}&pageSize=200"));
        var seen = all.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("accountId").GetGuid()).ToList();
        Assert.Contains(mine.AccountId, seen);
        Assert.Contains(theirs.AccountId, seen);
        await JsonAsync(await readOnly.GetAsync($"/api/v1/billing/statements/{theirs.AccountId}/{ThisMonth}"));
    }

    [Fact]
    public async Task MonthCsv_ForAdmins_HasEveryAccountsLines()
    {
        var one = await DeveloperAsync();
        var two = await DeveloperAsync();
        await CountAsync(one.SubscriptionId, LastMonth, 100);
        await CountAsync(two.SubscriptionId, LastMonth, 200);
        var admin = (await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read)).Client;

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/billing/statements?month={LastMonth}");
        request.Headers.Accept.ParseAdd("text/csv");
        var response = await admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"attachment; filename=\"statements-{LastMonth}.csv\"", response.Content.Headers.ContentDisposition?.ToString());
        var rows = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Contains(rows, r => r.Contains($",{one.SubscriptionId},") && r.Contains(",100,USD,1.00,"));
        Assert.Contains(rows, r => r.Contains($",{two.SubscriptionId},") && r.Contains(",200,USD,2.00,"));
    }

    [Fact]
    public async Task Reissue_ByAnAdmin_StoresTheNextRevision_409WhileTheMonthIsOpen()
    {
        var dev = await DeveloperAsync();
        await CountAsync(dev.SubscriptionId, LastMonth, 1000);
        Assert.Equal(10.00m, (await JsonAsync(await dev.Client.GetAsync($"/api/v1/billing/statements/{dev.AccountId}/{LastMonth}")))
            .GetProperty("totals")[0].GetProperty("amount").GetDecimal());
        await using (var db = await factory.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
            await db.Plans.Where(p => p.Id == dev.PlanId).ExecuteUpdateAsync(s => s.SetProperty(p => p.UnitPrice, 0.03m));
        var admin = (await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Admin)).Client;

        var reissued = await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/billing/statements/{dev.AccountId}/{LastMonth}/reissue", new { reason = "New price" }));
        Assert.Equal(2, reissued.GetProperty("revision").GetInt32());
        Assert.Equal(30.00m, reissued.GetProperty("totals")[0].GetProperty("amount").GetDecimal());
        var shown = await JsonAsync(await dev.Client.GetAsync($"/api/v1/billing/statements/{dev.AccountId}/{LastMonth}"));
        Assert.Equal((2, "New price"), (shown.GetProperty("revision").GetInt32(), shown.GetProperty("reason").GetString()));

        await JsonAsync(await admin.PostAsync($"/api/v1/billing/statements/{dev.AccountId}/{ThisMonth}/reissue", null), HttpStatusCode.Conflict);
        await JsonAsync(await admin.PostAsync($"/api/v1/billing/statements/{Guid.NewGuid()}/{LastMonth}/reissue", null), HttpStatusCode.NotFound);
        await JsonAsync(await dev.Client.PostAsync($"/api/v1/billing/statements/{dev.AccountId}/{LastMonth}/reissue", null), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task WithoutKey_Is401_AndAReadKeyMayNotReissue()
    {
        var response = await factory.AnonymousClient().GetAsync($"/api/v1/billing/statements?month={ThisMonth}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var adminReadKey = (await factory.ClientWithKeyAsync(Roles.Admin, Scopes.Read)).Client;
        var refused = await adminReadKey.PostAsync($"/api/v1/billing/statements/{Guid.NewGuid()}/{LastMonth}/reissue", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
