using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Features.Demo;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Demo;

public sealed class DemoWebhooksTests
{
    [Fact]
    public async Task SeedDemo_GivesAnEnabledAndADisabledEndpoint_WithDeliveriesInEveryState_AndSendsNothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        Assert.True((await database.Get<DemoData>().SeedAsync()).IsSuccess);

        await using var db = await database.OpenAsync();
        var endpoints = await db.WebhookEndpoints.ToListAsync();
        Assert.Equal(2, endpoints.Count);
        Assert.Contains(endpoints, e => e.Enabled);
        Assert.Contains(endpoints, e => !e.Enabled);
        Assert.All(endpoints, e => Assert.Contains(".example.test/", e.Url));
        var deliveries = await db.WebhookDeliveries.Include(d => d.AttemptLog).ToListAsync();
        Assert.All(Enum.GetValues<WebhookDeliveryStatus>(), status => Assert.Contains(deliveries, d => d.Status == status));
        Assert.All(deliveries, d => Assert.Equal(d.Attempts, d.AttemptLog.Count));
        Assert.Contains(deliveries, d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt > d.CreatedAt);

        // The first start fans the outbox out: the seeding's own changes must not become deliveries to the demo endpoints.
        await database.Get<WebhookDispatcher>().FanOutAsync();
        await using var after = await database.OpenAsync();
        Assert.Equal(deliveries.Count, await after.WebhookDeliveries.CountAsync());
    }
}
