using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Email;
using Portal.Core.Features.Notifications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Profile;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Subscriptions;
using Portal.Tests.Core.Products;
using Portal.Tests.Core.Profile;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Notifications;

/// <summary>
/// Notification emails land in the outbox for the members concerned only, follow each member's switches, and the
/// key expiry notices go out once per key whatever runs the sweep, with their webhook event.
/// </summary>
public sealed class NotificationTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o => o.Email.BaseUrl = "https://portal.example.test"));
        _root = await _db.RootAsync();
        await using var db = await _db.OpenAsync();
        await db.Organisation.ExecuteUpdateAsync(u => u.SetProperty(o => o.Name, "Acme Payments").SetProperty(o => o.LogoUrl, "https://cdn.example.test/acme.png"));
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<List<EmailOutboxMessage>> OutboxAsync(TestDatabase? database = null)
    {
        await using var db = await (database ?? _db).OpenAsync();
        return await db.EmailOutbox.AsNoTracking().OrderBy(m => m.To).ThenBy(m => m.Id).ToListAsync();
    }

    private async Task ClearOutboxAsync()
    {
        await using var db = await _db.OpenAsync();
        await db.EmailOutbox.ExecuteDeleteAsync();
    }

    /// <summary>An application in a team account of two developers, and a third developer outside it.</summary>
    private async Task<(ApplicationDto App, Actor Owner, Actor Member, Actor Outsider)> TeamAsync()
    {
        var (_, owner) = await _db.CreateUserAsync(Roles.Developer);
        var (_, member) = await _db.CreateUserAsync(Roles.Developer);
        var (_, outsider) = await _db.CreateUserAsync(Roles.Developer);
        var app = (await _db.Get<ApplicationService>().CreateAsync(owner, new CreateApplication { Name = "Web Shop" })).Value.Application;
        Assert.True((await _db.Get<AccountService>().AddMemberAsync(_root, app.AccountId, member.UserId)).IsSuccess);
        // The outsider has an application of their own: a member of some account, just not this one.
        await _db.Get<ApplicationService>().CreateAsync(outsider, new CreateApplication { Name = "Elsewhere" });
        await ClearOutboxAsync();
        return (app, owner, member, outsider);
    }

    private async Task<SubscriptionDto> WaitingAsync(Actor owner, ApplicationDto app)
    {
        var product = (await _db.Get<ProductService>().CreateAsync(_root, new CreateProduct
        {
            Name = $"Payments {Guid.NewGuid():N}"[..20], Published = true, RequiresApproval = true,
            Plans = [ProductServiceTests.Plan("Free")],
        })).Value;
        return (await _db.Get<SubscriptionService>().CreateAsync(owner,
            new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[0].Id })).Value;
    }

    [Fact]
    public async Task Approve_MailsEveryMemberOfTheAccount_AndNobodyElse_InTextAndHtmlWithTheOrganisation()
    {
        var (app, owner, member, outsider) = await TeamAsync();
        var sub = await WaitingAsync(owner, app);

        Assert.True((await _db.Get<SubscriptionService>().ApproveAsync(_root, sub.Id, new DecideSubscription())).IsSuccess);

        var mail = await OutboxAsync();
        Assert.Equal(new[] { owner.Email, member.Email }.Order(), mail.Select(m => m.To));
        Assert.DoesNotContain(mail, m => m.To == outsider.Email || m.To == _root.Email);
        var one = mail[0];
        Assert.StartsWith("Registration approved: Web Shop", one.Subject);
        Assert.Contains("Web Shop is now registered to", one.TextBody);
        Assert.Contains("Acme Payments", one.TextBody);
        Assert.Contains("Acme Payments", one.HtmlBody);
        Assert.Contains("https://cdn.example.test/acme.png", one.HtmlBody);
        Assert.Contains($"https://portal.example.test/applications/{app.Id}", one.TextBody);
    }

    [Fact]
    public async Task Reject_MailsTheReason_HtmlEscaped()
    {
        var (app, owner, _, _) = await TeamAsync();
        var sub = await WaitingAsync(owner, app);

        await _db.Get<SubscriptionService>().RejectAsync(_root, sub.Id, new DecideSubscription { Reason = "Use the <sandbox> plan first" });

        var mail = await OutboxAsync();
        Assert.Equal(2, mail.Count);
        Assert.All(mail, m =>
        {
            Assert.StartsWith("Registration rejected: Web Shop", m.Subject);
            Assert.Contains("Reason: Use the <sandbox> plan first", m.TextBody);
            Assert.Contains("Reason: Use the &lt;sandbox&gt; plan first", m.HtmlBody);
        });
    }

    [Fact]
    public async Task Decisions_FollowEachMembersSwitches()
    {
        var (app, owner, member, _) = await TeamAsync();
        var profiles = _db.Get<ProfileService>();
        var changed = await profiles.UpdateAsync(member, new UpdateProfile { Notifications = new UpdateNotificationChoices { SubscriptionApproved = false } });
        Assert.Equal(new NotificationChoices(false, true, true, true), changed.Value.Notifications);
        Assert.Equal(changed.Value.Notifications, (await profiles.GetAsync(member)).Value.Notifications);

        await _db.Get<SubscriptionService>().ApproveAsync(_root, (await WaitingAsync(owner, app)).Id, new DecideSubscription());
        Assert.Equal([owner.Email], (await OutboxAsync()).Select(m => m.To));

        // Approvals off does not silence rejections.
        await ClearOutboxAsync();
        await _db.Get<SubscriptionService>().RejectAsync(_root, (await WaitingAsync(owner, app)).Id, new DecideSubscription { Reason = "No" });
        Assert.Equal(new[] { owner.Email, member.Email }.Order(), (await OutboxAsync()).Select(m => m.To));

        // Turned on again: mailed again; the change is audited.
        await profiles.UpdateAsync(member, new UpdateProfile { Notifications = new UpdateNotificationChoices { SubscriptionApproved = true } });
        await ClearOutboxAsync();
        await _db.Get<SubscriptionService>().ApproveAsync(_root, (await WaitingAsync(owner, app)).Id, new DecideSubscription());
        Assert.Equal(2, (await OutboxAsync()).Count);
        await using var db = await _db.OpenAsync();
        Assert.Equal(2, await db.Audit.CountAsync(a => a.ActorId == member.UserId && a.Action == AuditActions.ProfileUpdated && a.Details!.StartsWith("notifications:")));
    }

    [Fact]
    public async Task SignUp_SendsAWelcome_ToTheNewcomerOnly()
    {
        var email = $"newcomer-{Guid.NewGuid():N}@portal.test";
        var signedUp = await _db.Get<SignUpService>().SignUpAsync(email, "New Comer", "Passw0rd!long");
        Assert.True(signedUp.IsSuccess, signedUp.Error?.Detail);

        var welcome = Assert.Single(await OutboxAsync());
        Assert.Equal(email, welcome.To);
        Assert.Equal("Welcome to Acme Payments", welcome.Subject);
        Assert.Contains("Welcome, New Comer", welcome.TextBody);
        Assert.Contains("https://portal.example.test/applications", welcome.TextBody);
    }

    /// <summary>An application key of the team's application expiring at <paramref name="expiresAt"/>.</summary>
    private async Task<Guid> AppKeyAsync(Actor owner, ApplicationDto app, DateTimeOffset expiresAt) =>
        (await _db.Get<ApplicationService>().GenerateKeyAsync(owner, app.Id, new GenerateApplicationKey { ExpiresAt = expiresAt })).Value.Id;

    private async Task<Guid> PersonalKeyAsync(Actor owner, DateTimeOffset? expiresAt, string name = "laptop") =>
        (await _db.Get<ApiKeyService>().CreateAsync(owner, new CreateApiKey { Name = name, Scopes = [Scopes.Read], ExpiresAt = expiresAt })).Value.Id;

    [Fact]
    public async Task Sweep_ExpiringAndExpiredNotices_GoOncePerKey_ToTheMembersOrTheOwner_WithTheirWebhookEvent()
    {
        var (app, owner, member, outsider) = await TeamAsync();
        var now = _db.Clock.GetUtcNow();
        var appKey = await AppKeyAsync(owner, app, now.AddDays(3));
        var personal = await PersonalKeyAsync(outsider, now.AddDays(6), "outsider laptop");
        await PersonalKeyAsync(outsider, now.AddDays(30), "later"); // outside the 7 days, then and four days on
        await PersonalKeyAsync(outsider, null, "forever");
        var revoked = await PersonalKeyAsync(member, now.AddDays(1), "revoked");
        await _db.Get<ApiKeyService>().RevokeAsync(member, revoked);
        await ClearOutboxAsync();
        var sweep = _db.Get<KeyExpiryNotices>();

        Assert.Equal(2, await sweep.SweepAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await sweep.SweepAsync(TestContext.Current.CancellationToken)); // a second sweep, a restart: nothing new

        var mail = await OutboxAsync();
        Assert.Equal(new[] { owner.Email, member.Email, outsider.Email }.Order(), mail.Select(m => m.To));
        Assert.All(mail, m => Assert.Contains("expires on", m.Subject));
        Assert.Contains("Web Shop key", mail.Single(m => m.To == owner.Email).TextBody);
        Assert.Contains("outsider laptop", mail.Single(m => m.To == outsider.Email).TextBody);
        await using (var db = await _db.OpenAsync())
        {
            var events = await db.WebhookOutbox.Where(e => e.Type == "api_key.expiring").ToListAsync();
            Assert.Equal(2, events.Count);
            var appEvent = Assert.Single(events, e => e.Data.Contains(appKey.ToString()));
            Assert.Contains($"\"applicationId\":\"{app.Id}\"", appEvent.Data);
            Assert.Contains("\"expiresAt\":", appEvent.Data);
            Assert.Single(events, e => e.Data.Contains(personal.ToString()));
            Assert.Equal(2, await db.Audit.CountAsync(a => a.Action == AuditActions.ApiKeyExpiring));
        }

        // Four days on: the application key has expired (its notice once), the personal key still only "expiring".
        await ClearOutboxAsync();
        _db.Clock.Advance(TimeSpan.FromDays(4));
        Assert.Equal(1, await sweep.SweepAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await sweep.SweepAsync(TestContext.Current.CancellationToken));
        mail = await OutboxAsync();
        Assert.Equal(new[] { owner.Email, member.Email }.Order(), mail.Select(m => m.To));
        Assert.All(mail, m => Assert.Contains("has expired", m.Subject));
        await using (var db = await _db.OpenAsync())
        {
            Assert.Equal(1, await db.WebhookOutbox.CountAsync(e => e.Type == "api_key.expired"));
            Assert.Equal(2, await db.WebhookOutbox.CountAsync(e => e.Type == "api_key.expiring"));
        }
    }

    [Fact]
    public async Task Sweep_FollowsTheSwitches_AndStillRecordsTheNoticeOnce()
    {
        var (app, owner, member, _) = await TeamAsync();
        await _db.Get<ProfileService>().UpdateAsync(member, new UpdateProfile { Notifications = new UpdateNotificationChoices { ApiKeyExpiring = false } });
        var key = await AppKeyAsync(owner, app, _db.Clock.GetUtcNow().AddDays(2));
        await ClearOutboxAsync();

        Assert.Equal(1, await _db.Get<KeyExpiryNotices>().SweepAsync(TestContext.Current.CancellationToken));

        Assert.Equal([owner.Email], (await OutboxAsync()).Select(m => m.To));
        await using var db = await _db.OpenAsync();
        Assert.True(await db.ApiKeyNotices.AnyAsync(n => n.KeyId == key && n.Kind == KeyNoticeKind.Expiring));
        // Switches are about email: the webhook event goes out regardless.
        Assert.Equal(1, await db.WebhookOutbox.CountAsync(e => e.Type == "api_key.expiring"));
    }

    [Fact]
    public async Task Sweep_ReadsInBatches_KeysSharingOneExpiry_EachNoticedOnce()
    {
        var (_, owner) = await _db.CreateUserAsync(Roles.Developer);
        var expiresAt = _db.Clock.GetUtcNow().AddDays(5);
        var count = KeyExpiryNotices.BatchSize * 2 + 7;
        await InsertKeysAsync(_db, owner.UserId, count, expiresAt);

        Assert.Equal(count, await _db.Get<KeyExpiryNotices>().SweepAsync(TestContext.Current.CancellationToken));

        await using var db = await _db.OpenAsync();
        Assert.Equal(count, await db.ApiKeyNotices.CountAsync());
        Assert.Equal(count, await db.EmailOutbox.CountAsync(m => m.To == owner.Email));
    }

    /// <summary>Personal keys written straight to the table: thousands, faster than through the service.</summary>
    internal static async Task InsertKeysAsync(TestDatabase database, Guid ownerId, int count, DateTimeOffset expiresAt)
    {
        await using var db = await database.OpenAsync();
        for (var i = 0; i < count; i++)
            db.ApiKeys.Add(new ApiKey
            {
                OwnerUserId = ownerId, Name = $"bulk {i}", Scopes = Scopes.Read, Hash = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
                Start = "ptl_bulk", Last4 = "0000", CreatedAt = database.Clock.GetUtcNow(), ExpiresAt = expiresAt,
            });
        await db.SaveChangesAsync();
    }
}

/// <summary>Two sweeps at once (two instances) on a database file and on PostgreSQL: each notice goes out once.</summary>
public sealed class KeyExpiryRaceTests
{
    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task TwoConcurrentSweeps_SendEachNoticeExactlyOnce(DatabaseProvider provider)
    {
        // Both sweeps are held at their first write until both have read the keys due: a race every time.
        var gate = new TransactionGate(2);
        await using var database = await TestDatabase.CreateAsync(services =>
        {
            SelfServiceSetup.With()(services);
            gate.AddTo(services);
        }, provider, onFile: provider == DatabaseProvider.Sqlite);
        var (_, owner) = await database.CreateUserAsync(Roles.Developer);
        const int keys = 60;
        await NotificationTests.InsertKeysAsync(database, owner.UserId, keys, database.Clock.GetUtcNow().AddDays(2));
        var sweep = database.Get<KeyExpiryNotices>();
        var ct = TestContext.Current.CancellationToken;

        var sent = await Task.WhenAll(gate.RunAsync(() => sweep.SweepAsync(ct)), gate.RunAsync(() => sweep.SweepAsync(ct)));

        Assert.Equal(2, gate.Held);
        Assert.Equal(keys, sent.Sum());
        await using var db = await database.OpenAsync();
        Assert.Equal(keys, await db.ApiKeyNotices.CountAsync());
        Assert.Equal(keys, await db.EmailOutbox.CountAsync(m => m.To == owner.Email));
        Assert.Equal(keys, await db.WebhookOutbox.CountAsync(e => e.Type == "api_key.expiring"));
        Assert.Equal(keys, await db.Audit.CountAsync(a => a.Action == AuditActions.ApiKeyExpiring));
    }
}
