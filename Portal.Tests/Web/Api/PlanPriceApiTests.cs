using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>Plan prices in <c>/api/v1/products</c> bodies and <c>POST …/plans/{planId}/what-if</c>, with real keys.</summary>
public sealed class PlanPriceApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private async Task<HttpClient> ClientAsync(string role, params string[] scopes) => (await factory.ClientWithKeyAsync(role, scopes)).Client;

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    private static async Task<JsonElement> CreatePricedAsync(HttpClient admin)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/products", new
        {
            name = Unique("Priced"),
            plans = new object[]
            {
                new { name = "Pro", type = "Subscription", currency = "eur", flatFee = 49.00m, priceText = "Cancel any time" },
                new { name = "Volume", type = "Tiered", currency = "USD", priceUnit = 1000, tierMode = "Volume",
                    tiers = new object[] { new { upTo = 10_000, unitPrice = 5m, note = "starter" }, new { upTo = (long?)null, unitPrice = 3m, flatFee = 20m } } },
            },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task PricedPlans_RoundTrip_WithTheirNumbers()
    {
        var product = await CreatePricedAsync(await ClientAsync(Roles.Admin));

        var plans = product.GetProperty("plans");
        Assert.Equal("EUR", plans[0].GetProperty("currency").GetString());
        Assert.Equal(49m, plans[0].GetProperty("flatFee").GetDecimal());
        Assert.Equal("Cancel any time", plans[0].GetProperty("priceText").GetString());
        Assert.Equal("Volume", plans[1].GetProperty("tierMode").GetString());
        Assert.Equal(1000, plans[1].GetProperty("priceUnit").GetInt32());
        var tier = plans[1].GetProperty("tiers")[0];
        Assert.Equal((5m, "starter", "starter"), (tier.GetProperty("unitPrice").GetDecimal(), tier.GetProperty("note").GetString(), tier.GetProperty("price").GetString()));
        Assert.Equal(20m, plans[1].GetProperty("tiers")[1].GetProperty("flatFee").GetDecimal());
    }

    [Fact]
    public async Task BadPrices_AreProblemDetails_WithTheFields()
    {
        var admin = await ClientAsync(Roles.Admin);

        var response = await admin.PostAsJsonAsync("/api/v1/products", new
        {
            name = Unique("Bad prices"),
            plans = new object[]
            {
                new { name = "Pro", type = "Subscription", currency = "ABC" },
                new { name = "Meter", type = "Metered", currency = "JPY", unitPrice = 0.5m, priceUnit = 10 },
            },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("plans[0].currency", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("plans[0].flatFee", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("plans[1].priceUnit", out _), errors.ToString());
        Assert.False(errors.TryGetProperty("plans[1].unitPrice", out _), errors.ToString());
    }

    [Fact]
    public async Task WhatIf_AnswersLastMonth_ForAdmins_400ForABadProposal_404ForAnUnknownPlan()
    {
        var admin = await ClientAsync(Roles.Admin);
        var product = await CreatePricedAsync(admin);
        var id = product.GetProperty("id").GetGuid();
        var planId = product.GetProperty("plans")[0].GetProperty("id").GetGuid();
        var proposal = new { name = "Pro", type = "Subscription", currency = "EUR", flatFee = 59m, quota = 1000, quotaPeriod = "Day" };

        var response = await admin.PostAsJsonAsync($"/api/v1/products/{id}/plans/{planId}/what-if", proposal);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, body.GetProperty("subscriptions").GetArrayLength());
        Assert.Equal("EUR", body.GetProperty("proposedCurrency").GetString());
        Assert.Equal(0m, body.GetProperty("proposedAmount").GetDecimal());
        Assert.Contains("QUOTA_EXCEEDED", body.GetProperty("counted").GetString());

        var bad = await admin.PostAsJsonAsync($"/api/v1/products/{id}/plans/{planId}/what-if", new { name = "Pro", type = "Subscription", currency = "EUR", flatFee = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("flatFee", out _));

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync($"/api/v1/products/{id}/plans/{Guid.NewGuid()}/what-if", proposal)).StatusCode);

        var readOnly = await ClientAsync(Roles.ReadOnly);
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsJsonAsync($"/api/v1/products/{id}/plans/{planId}/what-if", proposal)).StatusCode);
    }
}
