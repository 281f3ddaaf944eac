using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Support;
using Portal.Tests.Web.Subscriptions;

namespace Portal.Tests.Core.Webhooks;

public sealed class WebhookServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private WebhookService Webhooks => _db.Get<WebhookService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    internal static CreateWebhook Request(string url = "https://hooks.example.test/portal", bool enabled = true, params string[] types) => new()
    {
        Url = url,
        Description = "CRM sync",
        EventTypes = types.Length == 0 ? ["subscription.approved"] : [.. types],
        Enabled = enabled,
    };

    private async Task<WebhookCreated> CreatedAsync(CreateWebhook request)
    {
        var result = await Webhooks.CreateAsync(_root, request);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    [Fact]
    public async Task Create_ReturnsAWhsecSecretOnce_StoresItOnlyEncrypted_AndAudits()
    {
        var created = await CreatedAsync(Request());

        Assert.StartsWith("whsec_", created.Secret);
        Assert.True(Convert.FromBase64String(created.Secret["whsec_".Length..]).Length >= 32);
        Assert.EndsWith(created.Secret[^4..], created.MaskedSecret);
        Assert.DoesNotContain(created.Secret, created.ToString());
        await using var db = await _db.OpenAsync();
        var row = await db.WebhookEndpoints.SingleAsync();
        Assert.DoesNotContain(created.Secret["whsec_".Length..], row.ProtectedSecret);
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.WebhookCreated && a.TargetId == created.Id.ToString()));
        var fetched = (await Webhooks.GetAsync(_root, created.Id)).Value;
        Assert.Equal(created.MaskedSecret, fetched.MaskedSecret);
        Assert.Equal(["subscription.approved"], fetched.EventTypes);
    }

    [Theory]
    [InlineData("ftp://hooks.example.test/x", "url")]
    [InlineData("/relative/path", "url")]
    [InlineData("https://user:pass@hooks.example.test/x", "url")]
    [InlineData("javascript:alert(1)", "url")]
    [InlineData("", "url")]
    public async Task Create_UnacceptableUrl_IsAValidationErrorOnUrl(string url, string field)
    {
        var result = await Webhooks.CreateAsync(_root, Request(url));
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Contains(field, error.Errors.Keys);
    }

    [Fact]
    public async Task Create_UnknownOrNoEventTypes_OrLongDescription_AreValidationErrors()
    {
        var unknown = Assert.IsType<ValidationError>((await Webhooks.CreateAsync(_root, Request(types: "user.exploded"))).Error);
        Assert.Contains("user.exploded", unknown.Errors["eventTypes"][0]);
        var none = Assert.IsType<ValidationError>((await Webhooks.CreateAsync(_root, Request() with { EventTypes = [] })).Error);
        Assert.Contains("eventTypes", none.Errors.Keys);
        // A JSON body's [null] is named as null, not as an empty name.
        var nullType = Assert.IsType<ValidationError>((await Webhooks.CreateAsync(_root, Request() with { EventTypes = [null!] })).Error);
        Assert.Contains("null", nullType.Errors["eventTypes"][0]);
        var longText = Assert.IsType<ValidationError>((await Webhooks.CreateAsync(_root, Request() with { Description = new string('x', 501) })).Error);
        Assert.Contains("description", longText.Errors.Keys);
    }

    [Fact]
    public async Task ReadOnly_SeesEndpoints_ButChangesNothing_AndDevelopersSeeNothing()
    {
        var created = await CreatedAsync(Request());
        var (_, auditor) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var (_, adminWithReadKey) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read]);

        Assert.Equal(1, (await Webhooks.ListAsync(auditor, new PageQuery())).Value.Total);
        Assert.IsType<ForbiddenError>((await Webhooks.CreateAsync(auditor, Request())).Error);
        Assert.IsType<ForbiddenError>((await Webhooks.RevealSecretAsync(auditor, created.Id)).Error);
        Assert.IsType<ForbiddenError>((await Webhooks.SendTestAsync(auditor, created.Id)).Error);
        Assert.IsType<ForbiddenError>((await Webhooks.RotateSecretAsync(adminWithReadKey, created.Id)).Error);
        Assert.IsType<ForbiddenError>((await Webhooks.ListAsync(developer, new PageQuery())).Error);
    }

    [Fact]
    public async Task EventTypes_AnyKeyWithReadScope_SeesTheCatalogue_NotAKeyWithoutIt_NorAnApplicationKey()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer, scopes: [Scopes.Read]);
        var (_, adminWithWriteKey) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Write]);

        Assert.Equal(WebhookEventTypes.All.Count, Webhooks.EventTypes(developer).Value.Length);
        Assert.IsType<ForbiddenError>(Webhooks.EventTypes(adminWithWriteKey).Error);
        Assert.IsType<ForbiddenError>(Webhooks.EventTypes(developer with { ApplicationId = Guid.NewGuid() }).Error);
    }

    [Fact]
    public async Task RotateSecret_GivesANewSecret_ThatRevealShows_AndBothAreAudited()
    {
        var created = await CreatedAsync(Request());

        var rotated = (await Webhooks.RotateSecretAsync(_root, created.Id)).Value;
        var revealed = (await Webhooks.RevealSecretAsync(_root, created.Id)).Value;

        Assert.NotEqual(created.Secret, rotated.Secret);
        Assert.Equal(rotated.Secret, revealed.Secret);
        Assert.EndsWith(rotated.Secret[^4..], (await Webhooks.GetAsync(_root, created.Id)).Value.MaskedSecret);
        await using var db = await _db.OpenAsync();
        Assert.Equal(1, await db.Audit.CountAsync(a => a.Action == AuditActions.WebhookSecretRotated));
        Assert.Equal(1, await db.Audit.CountAsync(a => a.Action == AuditActions.WebhookSecretRevealed));
    }

    [Fact]
    public async Task Reveal_WhenTheSecretCanNoLongerBeDecrypted_IsAConflictSayingRotate_AndRotateMendsIt()
    {
        var created = await CreatedAsync(Request());
        // Encrypted under a key ring this portal does not have: as after losing the DataProtectionKeys table.
        var foreign = new Portal.Web.Features.Webhooks.DataProtectionWebhookSecrets(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider())
            .Protect(WebhookSignature.NewSecret());
        await using (var db = await _db.OpenAsync())
            await db.WebhookEndpoints.Where(e => e.Id == created.Id).ExecuteUpdateAsync(u => u.SetProperty(e => e.ProtectedSecret, foreign));

        var revealed = await Webhooks.RevealSecretAsync(_root, created.Id);

        var error = Assert.IsType<WebhookSecretUnreadable>(revealed.Error);
        Assert.IsAssignableFrom<ConflictError>(error);
        Assert.Equal("The secret can no longer be decrypted; rotate it.", error.Detail);
        var rotated = (await Webhooks.RotateSecretAsync(_root, created.Id)).Value;
        Assert.Equal(rotated.Secret, (await Webhooks.RevealSecretAsync(_root, created.Id)).Value.Secret);
        await using var check = await _db.OpenAsync();
        Assert.Equal(1, await check.Audit.CountAsync(a => a.Action == AuditActions.WebhookSecretRevealed));
    }

    [Fact]
    public async Task Update_ChangesOnlyTheFieldsSent_AndUnknownIdsAreNotFound()
    {
        var created = await CreatedAsync(Request());

        var updated = (await Webhooks.UpdateAsync(_root, created.Id, new UpdateWebhook { Enabled = false, EventTypes = ["product.deleted", "user.created"] })).Value;

        Assert.False(updated.Enabled);
        Assert.Equal(created.Url, updated.Url);
        Assert.Equal("CRM sync", updated.Description);
        Assert.Equal(["user.created", "product.deleted"], updated.EventTypes);
        Assert.IsType<NotFoundError>((await Webhooks.UpdateAsync(_root, Guid.NewGuid(), new UpdateWebhook { Enabled = true })).Error);
        Assert.IsType<NotFoundError>((await Webhooks.GetAsync(_root, Guid.NewGuid())).Error);
        Assert.IsType<NotFoundError>((await Webhooks.ListDeliveriesAsync(_root, Guid.NewGuid(), new WebhookDeliveryQuery())).Error);
        Assert.IsType<NotFoundError>((await Webhooks.RetryDeliveryAsync(_root, created.Id, Guid.NewGuid())).Error);
        Assert.IsType<ValidationError>((await Webhooks.UpdateAsync(_root, created.Id, new UpdateWebhook { EventTypes = [] })).Error);
    }

    [Fact]
    public async Task ApprovingASubscription_CreatesADelivery_OnlyForEnabledEndpointsSubscribedToIt()
    {
        var subscribed = await CreatedAsync(Request("https://a.example.test/hook", types: "subscription.approved"));
        var disabled = await CreatedAsync(Request("https://b.example.test/hook", enabled: false, types: "subscription.approved"));
        var otherTypes = await CreatedAsync(Request("https://c.example.test/hook", types: "product.deleted"));
        var dev = await SubscriptionSeed.DeveloperAsync(_db, "dana@portal.test", "Dana");
        var app = await SubscriptionSeed.ApplicationAsync(_db, dev, "Web Shop");
        var product = await SubscriptionSeed.ProductAsync(_db, "Payments API", "payments-api", "Card payments");
        var subscription = await SubscriptionSeed.SubscribeAsync(_db, dev, app, product, "Free");

        Assert.True((await _db.Get<SubscriptionService>().ApproveAsync(_root, subscription.Id, new DecideSubscription())).IsSuccess);
        await _db.Get<WebhookDispatcher>().FanOutAsync();

        await using var db = await _db.OpenAsync();
        var delivery = Assert.Single(await db.WebhookDeliveries.ToListAsync());
        Assert.Equal(subscribed.Id, delivery.EndpointId);
        Assert.Equal("subscription.approved", delivery.EventType);
        Assert.Equal(WebhookDeliveryStatus.Pending, delivery.Status);
        Assert.Contains(subscription.Id.ToString(), delivery.Payload);
        Assert.Contains("\"type\":\"subscription.approved\"", delivery.Payload);
        Assert.Empty(await db.WebhookOutbox.ToListAsync());
        Assert.DoesNotContain(await db.WebhookDeliveries.ToListAsync(), d => d.EndpointId == disabled.Id || d.EndpointId == otherTypes.Id);
    }

    [Fact]
    public async Task TheOutboxRow_IsWrittenInTheSameSaveAsTheChange()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);

        await using var db = await _db.OpenAsync();
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.UserCreated && a.TargetId == user.Id.ToString());
        var outbox = await db.WebhookOutbox.SingleAsync(o => o.Type == "user.created" && o.Data.Contains(user.Id.ToString()));
        Assert.Equal(audit.At, outbox.OccurredAt);
        Assert.Empty(await db.WebhookOutbox.Where(o => o.Type.StartsWith("auth.")).ToListAsync());
    }

    [Fact]
    public async Task KeyEvents_NeverCarryKeyMaterial()
    {
        await CreatedAsync(Request(types: ["api_key.created", "api_key.regenerated"]));
        var issued = (await _db.Get<ApiKeyService>().CreateAsync(_root, new CreateApiKey { Name = "ci", Scopes = [Scopes.Read] })).Value;
        var regenerated = (await _db.Get<ApiKeyService>().RegenerateAsync(_root, issued.Id, new RegenerateApiKey())).Value;

        await _db.Get<WebhookDispatcher>().FanOutAsync();

        await using var db = await _db.OpenAsync();
        var payloads = await db.WebhookDeliveries.Select(d => d.Payload).ToListAsync();
        Assert.Equal(2, payloads.Count);
        Assert.All(payloads, p =>
        {
            Assert.Contains(issued.Id.ToString(), p);
            Assert.DoesNotContain(issued.Key, p);
            Assert.DoesNotContain(regenerated.Key, p);
        });
    }

    [Fact]
    public async Task SendTest_QueuesAWebhookTestDelivery_ButNotToADisabledEndpoint()
    {
        var created = await CreatedAsync(Request());

        var delivery = (await Webhooks.SendTestAsync(_root, created.Id)).Value;

        Assert.Equal(WebhookEventTypes.Test, delivery.EventType);
        Assert.Equal(WebhookDeliveryStatus.Pending, delivery.Status);
        Assert.Equal(_db.Clock.GetUtcNow(), delivery.NextAttemptAt);
        var listed = (await Webhooks.ListDeliveriesAsync(_root, created.Id, new WebhookDeliveryQuery())).Value;
        Assert.Equal(delivery.Id, Assert.Single(listed.Items).Id);
        await Webhooks.UpdateAsync(_root, created.Id, new UpdateWebhook { Enabled = false });
        Assert.IsType<WebhookEndpointDisabled>((await Webhooks.SendTestAsync(_root, created.Id)).Error);
    }

    [Fact]
    public async Task Delete_RemovesTheEndpointAndItsDeliveries()
    {
        var created = await CreatedAsync(Request());
        await Webhooks.SendTestAsync(_root, created.Id);

        Assert.True((await Webhooks.DeleteAsync(_root, created.Id)).IsSuccess);

        await using var db = await _db.OpenAsync();
        Assert.Empty(await db.WebhookDeliveries.ToListAsync());
        Assert.IsType<NotFoundError>((await Webhooks.DeleteAsync(_root, created.Id)).Error);
    }

    [Fact]
    public void EventCatalogue_HasTheDocumentedTypes_EachDescribed()
    {
        var names = WebhookEventTypes.All.Select(t => t.Name).ToList();
        Assert.Contains("subscription.approved", names);
        Assert.Contains("api_key.regenerated", names);
        Assert.Contains(WebhookEventTypes.Test, names);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.All(WebhookEventTypes.All, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
    }
}
