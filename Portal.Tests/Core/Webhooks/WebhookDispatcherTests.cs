using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Webhooks;

/// <summary>The dispatcher against a real HTTP receiver on loopback, over a fake clock.</summary>
public sealed class WebhookDispatcherTests : IAsyncLifetime
{
    private readonly WebhookReceiver _receiver = new();
    private readonly LogCapture _logs = new();
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private WebhookService Webhooks => _db.Get<WebhookService>();
    private WebhookDispatcher Dispatcher => _db.Get<WebhookDispatcher>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(services =>
        {
            services.Configure<PortalOptions>(o => o.Webhooks.AllowPrivateTargets = true);
            services.AddLogging(l => l.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        });
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _db.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task<WebhookCreated> EndpointAsync(string? url = null) =>
        (await Webhooks.CreateAsync(_root, WebhookServiceTests.Request(url ?? _receiver.Url))).Value;

    private async Task<WebhookDeliveryDto> DeliveryAsync(Guid endpointId, Guid deliveryId) =>
        (await Webhooks.ListDeliveriesAsync(_root, endpointId, new WebhookDeliveryQuery())).Value.Items.Single(d => d.Id == deliveryId);

    [Fact]
    public async Task ADelivery_IsSignedPerStandardWebhooks_AndSucceedsOn2xx()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;

        await Dispatcher.RunOnceAsync();

        var request = Assert.Single(_receiver.Requests);
        var id = request.Headers["webhook-id"];
        var timestamp = request.Headers["webhook-timestamp"];
        Assert.Equal(queued.EventId.ToString(), id);
        Assert.Equal(_db.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(), timestamp);
        Assert.Equal(request.ExpectedSignature(endpoint.Secret), request.Headers["webhook-signature"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(id, body.RootElement.GetProperty("id").GetString());
        Assert.Equal("webhook.test", body.RootElement.GetProperty("type").GetString());
        Assert.True(body.RootElement.TryGetProperty("timestamp", out _));
        Assert.Equal(endpoint.Id.ToString(), body.RootElement.GetProperty("data").GetProperty("endpointId").GetString());
        var delivery = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, delivery.Status);
        Assert.Equal(200, delivery.LastStatusCode);
        Assert.Null(delivery.NextAttemptAt);
        Assert.Equal("ok", Assert.Single(delivery.AttemptLog).ResponseSnippet);
    }

    [Fact]
    public async Task ANon2xxAnswer_SchedulesARetryAfterOneMinute_AndTheRetrySucceeds()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;
        _receiver.AnswerWith(503);
        var sentAt = _db.Clock.GetUtcNow();

        await Dispatcher.RunOnceAsync();
        var afterFirst = await DeliveryAsync(endpoint.Id, queued.Id);
        _db.Clock.Advance(TimeSpan.FromSeconds(59));
        await Dispatcher.RunOnceAsync();
        var requestsBeforeDue = _receiver.Requests.Count;
        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        await Dispatcher.RunOnceAsync();

        Assert.Equal(WebhookDeliveryStatus.Pending, afterFirst.Status);
        Assert.Equal(503, afterFirst.LastStatusCode);
        Assert.Equal(sentAt + TimeSpan.FromMinutes(1), afterFirst.NextAttemptAt);
        Assert.Equal("receiver says no", afterFirst.AttemptLog.Single().ResponseSnippet);
        Assert.Equal(1, requestsBeforeDue);
        var final = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, final.Status);
        Assert.Equal(2, final.Attempts);
        Assert.Equal([503, 200], final.AttemptLog.Select(a => a.StatusCode));
        // The same event id on every attempt, so receivers can drop duplicates.
        Assert.Single(_receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct());
    }

    [Fact]
    public async Task AfterTheWholeSchedule_TheDeliveryIsFailed_AndAManualRetrySendsItAgain()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;
        _receiver.AnswerWith(500, 500, 500, 500, 500, 500);

        await Dispatcher.RunOnceAsync();
        foreach (var wait in WebhookDispatcher.RetrySchedule)
        {
            _db.Clock.Advance(wait);
            await Dispatcher.RunOnceAsync();
        }

        var failed = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Equal(WebhookDeliveryStatus.Failed, failed.Status);
        Assert.Equal(6, failed.Attempts);
        Assert.Null(failed.NextAttemptAt);
        _db.Clock.Advance(TimeSpan.FromDays(1));
        await Dispatcher.RunOnceAsync();
        Assert.Equal(6, _receiver.Requests.Count);

        var retried = (await Webhooks.RetryDeliveryAsync(_root, endpoint.Id, queued.Id)).Value;
        await Dispatcher.RunOnceAsync();

        Assert.Equal(WebhookDeliveryStatus.Pending, retried.Status);
        Assert.Equal(7, _receiver.Requests.Count);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, (await DeliveryAsync(endpoint.Id, queued.Id)).Status);
    }

    [Fact]
    public async Task ADisabledEndpoint_GetsNothing_UntilEnabledAgain()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;
        await Webhooks.UpdateAsync(_root, endpoint.Id, new UpdateWebhook { Enabled = false });

        await Dispatcher.RunOnceAsync();
        Assert.Empty(_receiver.Requests);
        Assert.Equal(WebhookDeliveryStatus.Pending, (await DeliveryAsync(endpoint.Id, queued.Id)).Status);

        await Webhooks.UpdateAsync(_root, endpoint.Id, new UpdateWebhook { Enabled = true });
        await Dispatcher.RunOnceAsync();
        Assert.Single(_receiver.Requests);
    }

    [Fact]
    public async Task ARedirect_IsNotFollowed_ButCountsAsAFailedAttempt()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;
        _receiver.AnswerWith(302);

        await Dispatcher.RunOnceAsync();

        Assert.Single(_receiver.Requests);
        var delivery = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Equal(302, delivery.LastStatusCode);
        Assert.Equal(WebhookDeliveryStatus.Pending, delivery.Status);
    }

    [Fact]
    public async Task AnUnreachableTarget_IsAFailedAttemptWithItsError()
    {
        // A port nothing listens on.
        var endpoint = await EndpointAsync("http://127.0.0.1:9/hooks");
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;

        await Dispatcher.RunOnceAsync();

        var delivery = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Null(delivery.LastStatusCode);
        Assert.False(string.IsNullOrWhiteSpace(delivery.LastError));
        Assert.Equal(_db.Clock.GetUtcNow() + TimeSpan.FromMinutes(1), delivery.NextAttemptAt);
    }

    [Fact]
    public async Task NeitherTheSecretNorTheSignatureNorTheUrl_EverReachTheLogs()
    {
        // Receivers often put a token of theirs in the path.
        const string tokenInPath = "t0ken-in-the-path-4f1c";
        var endpoint = await EndpointAsync($"{_receiver.Url}/{tokenInPath}");
        var rotated = (await Webhooks.RotateSecretAsync(_root, endpoint.Id)).Value;
        await Webhooks.SendTestAsync(_root, endpoint.Id);
        await Webhooks.SendTestAsync(_root, endpoint.Id);
        _receiver.AnswerWith(500);

        await Dispatcher.RunOnceAsync();

        Assert.Equal(2, _receiver.Requests.Count);
        var signatures = _receiver.Requests.Select(r => r.Headers["webhook-signature"]["v1,".Length..]).ToList();
        Assert.NotEmpty(_logs.Messages);
        Assert.All(_logs.Messages, m =>
        {
            Assert.DoesNotContain(endpoint.Secret["whsec_".Length..], m);
            Assert.DoesNotContain(rotated.Secret["whsec_".Length..], m);
            Assert.All(signatures, s => Assert.DoesNotContain(s, m));
            Assert.DoesNotContain(tokenInPath, m);
            Assert.DoesNotContain($"127.0.0.1:{_receiver.Port}", m);
        });
    }

    [Fact]
    public async Task PrivateTargets_AreRefusedByDefault()
    {
        await using var db = await TestDatabase.CreateAsync();
        var root = await db.RootAsync();
        var endpoint = (await db.Get<WebhookService>().CreateAsync(root, WebhookServiceTests.Request(_receiver.Url))).Value;
        var queued = (await db.Get<WebhookService>().SendTestAsync(root, endpoint.Id)).Value;

        await db.Get<WebhookDispatcher>().RunOnceAsync();

        Assert.Empty(_receiver.Requests);
        var delivery = (await db.Get<WebhookService>().ListDeliveriesAsync(root, endpoint.Id, new WebhookDeliveryQuery())).Value.Items.Single(d => d.Id == queued.Id);
        Assert.Contains("blocked", delivery.LastError);
        Assert.Equal(WebhookDeliveryStatus.Pending, delivery.Status);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:4700::1111", false)]
    [InlineData("0.1.2.3", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("198.19.255.254", true)]
    [InlineData("240.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("192.0.1.1", false)]
    [InlineData("198.20.0.1", false)]
    [InlineData("64:ff9b::7f00:1", true)] // NAT64 of 127.0.0.1
    [InlineData("64:ff9b::a9fe:a9fe", true)] // NAT64 of 169.254.169.254
    [InlineData("64:ff9b::5db8:d822", false)] // NAT64 of 93.184.216.34
    [InlineData("64:ff9b:1::5db8:d822", true)] // local-use NAT64: refused whole
    [InlineData("2002:7f00:1::1", true)] // 6to4 of 127.0.0.1
    [InlineData("2002:a00:1::1", true)] // 6to4 of 10.0.0.1
    [InlineData("2002:5db8:d822::1", false)] // 6to4 of 93.184.216.34
    [InlineData("::7f00:1", true)] // IPv4-compatible 127.0.0.1
    [InlineData("::a9fe:a9fe", true)] // IPv4-compatible 169.254.169.254
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", true)] // Teredo
    [InlineData("2001:db8::1", false)]
    public void PrivateAddresses_AreRecognised(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, WebhookRules.IsPrivate(System.Net.IPAddress.Parse(address)));

    [Fact]
    public async Task DomainChanges_ReachTheReceiver_ThroughTheOutbox_FromTheEndpointsCreationOn()
    {
        // The bootstrap's user.created is still in the outbox: older than the endpoint, it is not sent.
        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        var endpoint = (await Webhooks.CreateAsync(_root, WebhookServiceTests.Request(_receiver.Url, types: "user.created"))).Value;
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);

        await Dispatcher.RunOnceAsync();

        var request = Assert.Single(_receiver.Requests);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("user.created", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(user.Id.ToString(), body.RootElement.GetProperty("data").GetProperty("id").GetString());
        Assert.DoesNotContain("Passw0rd", request.Body);
        await using var db = await _db.OpenAsync();
        Assert.Equal(WebhookDeliveryStatus.Succeeded, (await db.WebhookDeliveries.SingleAsync(d => d.EndpointId == endpoint.Id)).Status);
    }

    [Theory]
    [InlineData(RawHttpReceiver.Behaviour.CutBody)]
    [InlineData(RawHttpReceiver.Behaviour.Reset)]
    public async Task AReceiverThatCutsItsAnswerOrResets_IsARecordedAttempt_AndTheRestOfTheRoundGoesThrough(RawHttpReceiver.Behaviour behaviour)
    {
        await using var bad = new RawHttpReceiver(behaviour);
        var badEndpoint = await EndpointAsync(bad.Url);
        var good = await EndpointAsync();
        var badDeliveries = new List<WebhookDeliveryDto>();
        var goodDeliveries = new List<WebhookDeliveryDto>();
        for (var i = 0; i < 3; i++)
        {
            badDeliveries.Add((await Webhooks.SendTestAsync(_root, badEndpoint.Id)).Value);
            goodDeliveries.Add((await Webhooks.SendTestAsync(_root, good.Id)).Value);
        }

        await Dispatcher.RunOnceAsync();

        foreach (var queued in goodDeliveries)
            Assert.Equal(WebhookDeliveryStatus.Succeeded, (await DeliveryAsync(good.Id, queued.Id)).Status);
        Assert.Equal(3, _receiver.Requests.Count);
        var first = await DeliveryAsync(badEndpoint.Id, badDeliveries[0].Id);
        Assert.Equal(1, first.Attempts);
        if (behaviour == RawHttpReceiver.Behaviour.CutBody)
        {
            // The status arrived: a 2xx is a success even if the body that follows is cut short; the attempt says so.
            Assert.Equal(WebhookDeliveryStatus.Succeeded, first.Status);
            Assert.Equal(200, first.LastStatusCode);
            Assert.Contains("body could not be read", first.LastError);
        }
        else
        {
            Assert.Equal(WebhookDeliveryStatus.Pending, first.Status);
            Assert.False(string.IsNullOrWhiteSpace(first.LastError));
            Assert.Equal(_db.Clock.GetUtcNow() + TimeSpan.FromMinutes(1), first.NextAttemptAt);
        }

        // Recorded, so not sent again at the next poll.
        var sent = bad.Requests;
        await Dispatcher.RunOnceAsync();
        Assert.Equal(sent, bad.Requests);
    }

    [Fact]
    public async Task ARetryAskedWhileAnAttemptIsInFlight_Wins_AndTheDeliveryIsSentAgain()
    {
        await using var slow = new RawHttpReceiver(RawHttpReceiver.Behaviour.HoldThenOk);
        var endpoint = await EndpointAsync(slow.Url);
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;

        var round = Dispatcher.RunOnceAsync();
        await slow.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        var retried = await Webhooks.RetryDeliveryAsync(_root, endpoint.Id, queued.Id);
        slow.Release();
        await round;

        Assert.True(retried.IsSuccess);
        var delivery = await DeliveryAsync(endpoint.Id, queued.Id);
        Assert.Equal(WebhookDeliveryStatus.Pending, delivery.Status);
        Assert.Equal(_db.Clock.GetUtcNow(), delivery.NextAttemptAt);
        Assert.Null(delivery.DeliveredAt);
        Assert.Equal(1, delivery.Attempts);
        Assert.Equal(200, Assert.Single(delivery.AttemptLog).StatusCode);
        await Dispatcher.RunOnceAsync();
        Assert.Equal(2, slow.Requests);
        Assert.Equal(WebhookDeliveryStatus.Succeeded, (await DeliveryAsync(endpoint.Id, queued.Id)).Status);
    }

    [Fact]
    public async Task TwoDispatchersAtOnce_NeverSendTheSameAttempt()
    {
        await using var slow = new RawHttpReceiver(RawHttpReceiver.Behaviour.HoldThenOk);
        var endpoint = await EndpointAsync(slow.Url);
        await Webhooks.SendTestAsync(_root, endpoint.Id);
        var other = new WebhookDispatcher(_db.Get<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Core.Data.PortalDbContext>>(),
            _db.Get<IHttpClientFactory>(), _db.Get<IWebhookSecretProtector>(), new WakeSignal(),
            _db.Get<Microsoft.Extensions.Options.IOptions<PortalOptions>>(), _db.Clock, _db.Get<ILogger<WebhookDispatcher>>());

        var first = Dispatcher.SendDueAsync();
        await slow.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        var second = await other.SendDueAsync();
        slow.Release();

        Assert.Equal(1, await first);
        Assert.Equal(0, second);
        Assert.Equal(1, slow.Requests);
    }

    [Fact]
    public async Task AnEndpointDeletedDuringASend_IsGone_AndTheRoundEndsNormally()
    {
        await using var slow = new RawHttpReceiver(RawHttpReceiver.Behaviour.HoldThenOk);
        var endpoint = await EndpointAsync(slow.Url);
        await Webhooks.SendTestAsync(_root, endpoint.Id);
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;

        var round = Dispatcher.RunOnceAsync();
        await slow.FirstRequest.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True((await Webhooks.DeleteAsync(_root, endpoint.Id)).IsSuccess);
        slow.Release();
        await round;

        Assert.IsType<NotFoundError>((await Webhooks.RetryDeliveryAsync(_root, endpoint.Id, queued.Id)).Error);
        await using var db = await _db.OpenAsync();
        Assert.False(await db.WebhookDeliveries.AnyAsync());
        Assert.False(await db.WebhookAttempts.AnyAsync());
    }

    [Fact]
    public async Task ARetry_ClearsDeliveredAt()
    {
        var endpoint = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, endpoint.Id)).Value;
        await Dispatcher.RunOnceAsync();
        Assert.NotNull((await DeliveryAsync(endpoint.Id, queued.Id)).DeliveredAt);

        var retried = (await Webhooks.RetryDeliveryAsync(_root, endpoint.Id, queued.Id)).Value;

        Assert.Equal(WebhookDeliveryStatus.Pending, retried.Status);
        Assert.Null(retried.DeliveredAt);
        Assert.Null((await DeliveryAsync(endpoint.Id, queued.Id)).DeliveredAt);
    }

    [Fact]
    public async Task ADeadEndpointWithABacklog_DoesNotDelayATestEventToAHealthyOne_BeyondOneRound()
    {
        var dead = await EndpointAsync("http://127.0.0.1:9/hooks");
        await using (var db = await _db.OpenAsync())
        {
            for (var i = 0; i < 3 * WebhookDispatcher.BatchSize; i++)
                db.WebhookDeliveries.Add(WebhookDispatcher.NewDelivery(dead.Id, Guid.CreateVersion7(), "user.created", "{}", _db.Clock.GetUtcNow().AddHours(-1)));
            await db.SaveChangesAsync();
        }
        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        var healthy = await EndpointAsync();
        var queued = (await Webhooks.SendTestAsync(_root, healthy.Id)).Value;

        await Dispatcher.RunOnceAsync();

        Assert.Equal(WebhookDeliveryStatus.Succeeded, (await DeliveryAsync(healthy.Id, queued.Id)).Status);
        await using var check = await _db.OpenAsync();
        // One attempt at the dead endpoint; the rest of its backlog waits for its next retry instead of being tried in turn.
        Assert.Equal(1, await check.WebhookAttempts.CountAsync(a => check.WebhookDeliveries.Any(d => d.Id == a.DeliveryId && d.EndpointId == dead.Id)));
        var now = _db.Clock.GetUtcNow();
        Assert.False(await check.WebhookDeliveries.AnyAsync(d => d.EndpointId == dead.Id && d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt <= now));
        Assert.Equal(0, await Dispatcher.SendDueAsync());
    }

    [Fact]
    public async Task AnApplicationsKeys_RaiseApiKeyCreatedAndRevoked_WithKeyAndApplicationIds()
    {
        _db.Clock.Advance(TimeSpan.FromSeconds(1));
        await Webhooks.CreateAsync(_root, WebhookServiceTests.Request(_receiver.Url, types: ["api_key.created", "api_key.revoked"]));
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var apps = _db.Get<Portal.Core.Features.Applications.ApplicationService>();
        var app = (await apps.CreateAsync(developer, new Portal.Core.Features.Applications.CreateApplication { Name = "Invoice Sync" })).Value;
        var second = (await apps.GenerateKeyAsync(developer, app.Application.Id, new Portal.Core.Features.Applications.GenerateApplicationKey())).Value;
        Assert.True((await apps.RevokeKeyAsync(developer, app.Application.Id, app.Key.Id)).IsSuccess);

        await Dispatcher.RunOnceAsync();

        var events = _receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement)
            .Select(e => (Type: e.GetProperty("type").GetString(), Data: e.GetProperty("data")))
            .ToList();
        Assert.Equal(["api_key.created", "api_key.created", "api_key.revoked"], events.Select(e => e.Type).Order());
        Assert.Equal(new[] { app.Key.Id.ToString(), second.Id.ToString() }.Order(),
            events.Where(e => e.Type == "api_key.created").Select(e => e.Data.GetProperty("keyId").GetString()).Order());
        Assert.Equal(app.Key.Id.ToString(), events.Single(e => e.Type == "api_key.revoked").Data.GetProperty("keyId").GetString());
        Assert.All(events, e => Assert.Equal(app.Application.Id.ToString(), e.Data.GetProperty("applicationId").GetString()));
        Assert.All(_receiver.Requests, r =>
        {
            Assert.DoesNotContain(app.Key.Key, r.Body);
            Assert.DoesNotContain(second.Key, r.Body);
        });
    }

    [Fact]
    public async Task FinishedDeliveriesOlderThanTheRetention_ArePurgedWithTheirAttempts_AtMostOnceAnHour()
    {
        var endpoint = await EndpointAsync();
        var start = _db.Clock.GetUtcNow();
        Guid Add(Portal.Core.Data.PortalDbContext db, WebhookDeliveryStatus status, TimeSpan age)
        {
            var delivery = WebhookDispatcher.NewDelivery(endpoint.Id, Guid.CreateVersion7(), "user.created", "{}", start - age);
            delivery.Status = status;
            delivery.Attempts = 1;
            delivery.AttemptLog.Add(new WebhookAttempt { At = start - age, StatusCode = 200 });
            db.WebhookDeliveries.Add(delivery);
            return delivery.Id;
        }
        Guid oldSucceeded, oldFailed, oldPending, young, later;
        await using (var db = await _db.OpenAsync())
        {
            oldSucceeded = Add(db, WebhookDeliveryStatus.Succeeded, TimeSpan.FromDays(31));
            oldFailed = Add(db, WebhookDeliveryStatus.Failed, TimeSpan.FromDays(45));
            oldPending = Add(db, WebhookDeliveryStatus.Pending, TimeSpan.FromDays(60));
            young = Add(db, WebhookDeliveryStatus.Succeeded, TimeSpan.FromDays(28));
            later = Add(db, WebhookDeliveryStatus.Succeeded, TimeSpan.FromDays(29) + TimeSpan.FromMinutes(30));
            await db.SaveChangesAsync();
        }

        Assert.Equal(2, await Dispatcher.PurgeIfDueAsync());
        _db.Clock.Advance(TimeSpan.FromHours(23) + TimeSpan.FromMinutes(20));
        Assert.Equal(0, await Dispatcher.PurgeIfDueAsync()); // 'later' is 29 days 23 h 50 min old: kept
        // 'later' is past 30 days now, but the last purge was 20 minutes ago: it waits for the hour.
        _db.Clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(0, await Dispatcher.PurgeIfDueAsync());
        await using (var db = await _db.OpenAsync())
            Assert.True(await db.WebhookDeliveries.AnyAsync(d => d.Id == later));
        _db.Clock.Advance(TimeSpan.FromMinutes(40));
        Assert.Equal(1, await Dispatcher.PurgeIfDueAsync());

        await using var check = await _db.OpenAsync();
        var left = await check.WebhookDeliveries.Select(d => d.Id).ToListAsync();
        Assert.Equal(new[] { oldPending, young }.Order(), left.Order());
        Assert.Equal(new[] { oldPending, young }.Order(), (await check.WebhookAttempts.Select(a => a.DeliveryId).ToListAsync()).Order());
        Assert.DoesNotContain(oldSucceeded, left);
        Assert.DoesNotContain(oldFailed, left);
        Assert.DoesNotContain(later, left);
    }

    private sealed class LogCapture : ILoggerProvider
    {
        public ConcurrentBag<string> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Messages.Add($"{category}: {formatter(state, exception)} {exception}");
        }
    }
}
