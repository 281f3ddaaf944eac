using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>The <c>/api/v1/products</c> endpoints, with real keys.</summary>
public sealed class ProductApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private async Task<HttpClient> ClientAsync(string role, params string[] scopes) => (await factory.ClientWithKeyAsync(role, scopes)).Client;

    internal static object ProductBody(string name, bool published = true, bool requiresApproval = true) => new
    {
        name,
        title = $"{name}: the tagline",
        description = "What it does.",
        upstreamUrl = "https://upstream.example/api",
        published,
        requiresApproval,
        plans = new object[]
        {
            new { name = "Free", type = "Free", rateLimit = 5, rateLimitWindow = "Second", quota = 1000, quotaPeriod = "Day", priceText = "Free" },
            new { name = "Volume", type = "Tiered", rateLimit = 100, rateLimitWindow = "Minute", priceText = "Pay as you go",
                tiers = new object[] { new { upTo = 10_000, price = "$0.01" }, new { upTo = (long?)null, price = "$0.005" } } },
        },
    };

    internal static async Task<JsonElement> CreateAsync(HttpClient admin, string name, bool published = true, bool requiresApproval = true)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/products", ProductBody(name, published, requiresApproval));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Unique(string name) => $"{name} {Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task Visibility_AsWords_SetsPublished_BothWays_AnUnknownWordIs400()
    {
        var admin = await ClientAsync(Roles.Admin);
        var developer = await ClientAsync(Roles.Developer);
        var plans = new object[] { new { name = "Free", type = "Free" } };
        var response = await admin.PostAsJsonAsync("/api/v1/products", new { name = Unique("Visible"), visibility = "public", plans });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetGuid();
        Assert.True(body.GetProperty("published").GetBoolean());
        Assert.Equal("public", body.GetProperty("visibility").GetString());
        Assert.Equal(HttpStatusCode.OK, (await developer.GetAsync($"/api/v1/products/{id}")).StatusCode);

        var hidden = await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new { visibility = "Draft" });
        Assert.Equal(HttpStatusCode.OK, hidden.StatusCode);
        Assert.Equal("draft", (await hidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visibility").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync($"/api/v1/products/{id}")).StatusCode);

        var bad = await admin.PostAsJsonAsync("/api/v1/products", new { name = Unique("Sideways"), visibility = "sideways", plans });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").EnumerateObject().Any(e => e.Name.Equals("visibility", StringComparison.OrdinalIgnoreCase)), problem.ToString());
    }

    [Fact]
    public async Task PublishedAndVisibilityThatDisagree_Are400_InEitherOrder_AndChangeNothing()
    {
        var admin = await ClientAsync(Roles.Admin);
        var plans = new object[] { new { name = "Free", type = "Free" } };
        var name = Unique("Torn");

        foreach (var body in new object[]
                 {
                     new { name, published = true, visibility = "draft", plans },
                     new { name, visibility = "draft", published = true, plans },
                 })
        {
            var refused = await admin.PostAsJsonAsync("/api/v1/products", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty("visibility", out _), problem.ToString());
        }
        var agreeing = await admin.PostAsJsonAsync("/api/v1/products", new { name, published = false, visibility = "private", plans });
        Assert.Equal(HttpStatusCode.Created, agreeing.StatusCode);
        var id = (await agreeing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var torn = await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new { visibility = "public", published = false });
        Assert.Equal(HttpStatusCode.BadRequest, torn.StatusCode);
        var unchanged = await (await admin.GetAsync($"/api/v1/products/{id}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("draft", unchanged.GetProperty("visibility").GetString());
    }

    [Fact]
    public async Task Create_Is201_WithLocation_PlansTiersAndEnumsAsText_ThenGetByIdOrSlug()
    {
        var admin = await ClientAsync(Roles.Admin);
        var name = Unique("Payments");
        var response = await admin.PostAsJsonAsync("/api/v1/products", ProductBody(name));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = body.GetProperty("id").GetGuid();
        var slug = body.GetProperty("slug").GetString()!;
        Assert.Equal($"/api/v1/products/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(name.ToLowerInvariant().Replace(' ', '-'), slug);
        var plans = body.GetProperty("plans");
        Assert.Equal("Free", plans[0].GetProperty("type").GetString());
        Assert.Equal("Day", plans[0].GetProperty("quotaPeriod").GetString());
        Assert.Equal("Tiered", plans[1].GetProperty("type").GetString());
        Assert.Equal("Minute", plans[1].GetProperty("rateLimitWindow").GetString());
        Assert.Equal(2, plans[1].GetProperty("tiers").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, plans[1].GetProperty("tiers")[1].GetProperty("upTo").ValueKind);
        Assert.Equal(0, body.GetProperty("openSubscriptions").GetInt32());

        var developer = await ClientAsync(Roles.Developer);
        foreach (var key in new[] { id.ToString(), slug })
        {
            var one = await developer.GetFromJsonAsync<JsonElement>($"/api/v1/products/{key}");
            Assert.Equal(id, one.GetProperty("id").GetGuid());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync("/api/v1/products/no-such-product")).StatusCode);
    }

    [Fact]
    public async Task Developers_ListPublishedOnly_DraftsAre404_AdminsFilterByPublishedAndSearch()
    {
        var admin = await ClientAsync(Roles.SuperAdmin);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var live = await CreateAsync(admin, $"Live {tag}");
        var draft = await CreateAsync(admin, $"Draft {tag}", published: false);
        var developer = await ClientAsync(Roles.Developer);

        var mine = await developer.GetFromJsonAsync<JsonElement>($"/api/v1/products?search={tag}");
        Assert.Equal(1, mine.GetProperty("total").GetInt32());
        Assert.Equal(live.GetProperty("id").GetGuid(), mine.GetProperty("items")[0].GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync($"/api/v1/products/{draft.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await developer.GetAsync($"/api/v1/products/{draft.GetProperty("slug").GetString()}")).StatusCode);

        var drafts = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/products?search={tag}&published=false");
        Assert.Equal(draft.GetProperty("id").GetGuid(), Assert.Single(drafts.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        var all = await (await ClientAsync(Roles.ReadOnly)).GetFromJsonAsync<JsonElement>($"/api/v1/products?search={tag}&page=1&pageSize=1");
        Assert.Equal((2, 1), (all.GetProperty("total").GetInt32(), all.GetProperty("items").GetArrayLength()));
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.GetAsync("/api/v1/products?pageSize=500")).StatusCode);
    }

    [Fact]
    public async Task Create_Invalid_Is400WithFieldErrors_SlugClash_Is409()
    {
        var admin = await ClientAsync(Roles.Admin);
        var invalid = await admin.PostAsJsonAsync("/api/v1/products", new
        {
            name = "Broken",
            published = true,
            plans = new object[] { new { name = "A", type = "Tiered" }, new { name = "a", type = "Free" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("application/problem+json", invalid.Content.Headers.ContentType?.MediaType);
        var errors = (await invalid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("plans[0].tiers", out _));
        Assert.True(errors.TryGetProperty("plans[1].name", out _));

        var noPlans = await admin.PostAsJsonAsync("/api/v1/products", new { name = "No plans", published = true });
        Assert.True((await noPlans.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("published", out _));

        var slug = $"clash-{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/products", new { name = "First", slug })).StatusCode);
        var clash = await admin.PostAsJsonAsync("/api/v1/products", new { name = "Second", slug });
        Assert.Equal(HttpStatusCode.Conflict, clash.StatusCode);
        Assert.Contains(slug, (await clash.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Patch_IsPartial_200_UnknownIs404_InvalidIs400()
    {
        var admin = await ClientAsync(Roles.Admin);
        var product = await CreateAsync(admin, Unique("Patchable"));
        var id = product.GetProperty("id").GetGuid();
        var freePlanId = product.GetProperty("plans")[0].GetProperty("id").GetGuid();

        var response = await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new
        {
            description = "Now with refunds.",
            plans = new object[] { new { id = freePlanId, name = "Free", type = "Free", quota = 500 }, new { name = "Business", type = "Subscription", priceText = "$99 / month" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(product.GetProperty("name").GetString(), body.GetProperty("name").GetString());
        Assert.Equal("Now with refunds.", body.GetProperty("description").GetString());
        Assert.Equal(freePlanId, body.GetProperty("plans")[0].GetProperty("id").GetGuid());
        Assert.Equal(500, body.GetProperty("plans")[0].GetProperty("quota").GetInt64());
        Assert.Equal("Business", body.GetProperty("plans")[1].GetProperty("name").GetString());
        Assert.Equal(2, body.GetProperty("plans").GetArrayLength());

        Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsJsonAsync($"/api/v1/products/{Guid.NewGuid()}", new { name = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new { slug = "Not a slug" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PatchAsJsonAsync($"/api/v1/products/{id}", new { plans = new[] { new { type = "Nonsense" } } })).StatusCode);
    }

    [Fact]
    public async Task Delete_Is204_409WhileOpenSubscriptionsExist_404Afterwards()
    {
        var admin = await ClientAsync(Roles.Admin);
        var product = await CreateAsync(admin, Unique("Deletable"));
        var id = product.GetProperty("id").GetGuid();
        var (developer, _, _) = await factory.ClientWithKeyAsync(Roles.Developer);
        var app = await (await developer.PostAsJsonAsync("/api/v1/applications", new { name = "Shop" })).Content.ReadFromJsonAsync<JsonElement>();
        var subscribed = await developer.PostAsJsonAsync("/api/v1/subscriptions", new
        {
            applicationId = app.GetProperty("id").GetGuid(),
            productId = id,
            planId = product.GetProperty("plans")[0].GetProperty("id").GetGuid(),
        });
        var subscriptionId = (await subscribed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var refused = await admin.DeleteAsync($"/api/v1/products/{id}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await developer.PostAsync($"/api/v1/subscriptions/{subscriptionId}/unsubscribe", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/products/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/products/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/products/{id}")).StatusCode);
    }

    [Fact]
    public async Task WrongRoleOrScope_Is403_NoKey_Is401()
    {
        var body = ProductBody("Nope");
        Assert.Equal(HttpStatusCode.Forbidden, (await (await ClientAsync(Roles.Developer)).PostAsJsonAsync("/api/v1/products", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await ClientAsync(Roles.ReadOnly)).PostAsJsonAsync("/api/v1/products", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await ClientAsync(Roles.Admin, Scopes.Read, Scopes.Write)).PostAsJsonAsync("/api/v1/products", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await ClientAsync(Roles.Admin, Scopes.Admin)).GetAsync("/api/v1/products")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().GetAsync("/api/v1/products")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.AnonymousClient().PostAsJsonAsync("/api/v1/products", body)).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesProductsAndSubscriptions()
    {
        var json = await factory.AnonymousClient().GetStringAsync("/openapi/v1.json");
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        foreach (var path in new[]
                 {
                     "/api/v1/products", "/api/v1/products/{idOrSlug}", "/api/v1/products/{id}", "/api/v1/subscriptions", "/api/v1/subscriptions/{id}",
                     "/api/v1/subscriptions/{id}/approve", "/api/v1/subscriptions/{id}/reject", "/api/v1/subscriptions/{id}/unsubscribe", "/api/v1/accounts/{id}",
                 })
            Assert.True(paths.TryGetProperty(path, out _), $"OpenAPI lacks {path}");
    }
}
