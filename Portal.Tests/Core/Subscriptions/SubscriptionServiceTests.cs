using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Verification;
using Portal.Tests.Core.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Subscriptions;

public sealed class SubscriptionServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private SubscriptionService Subscriptions => _db.Get<SubscriptionService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<ProductDto> ProductAsync(string name = "Payments API", bool requiresApproval = true, bool published = true)
    {
        var result = await _db.Get<ProductService>().CreateAsync(_root, new CreateProduct
        {
            Name = name,
            Title = $"{name}, the tagline",
            Published = published,
            RequiresApproval = requiresApproval,
            Plans = [ProductServiceTests.Plan("Free"), ProductServiceTests.Plan("Pro", PlanType.Subscription)],
        });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task<(Actor Developer, ApplicationDto App)> DeveloperWithAppAsync(string appName = "Web Shop")
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        return (dev, await AppAsync(dev, appName));
    }

    private async Task<ApplicationDto> AppAsync(Actor dev, string name) =>
        (await _db.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = name })).Value.Application;

    private Task<Result<SubscriptionDto>> SubscribeAsync(Actor actor, ApplicationDto app, ProductDto product, int plan = 0) =>
        Subscriptions.CreateAsync(actor, new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[plan].Id });

    private async Task<SubscriptionDto> SubscribedAsync(Actor actor, ApplicationDto app, ProductDto product, int plan = 0)
    {
        var result = await SubscribeAsync(actor, app, product, plan);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    [Fact]
    public async Task Subscribe_IsWaiting_WithTheNamesThePagesShow_AndAudited()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();

        var sub = await SubscribedAsync(dev, app, product, plan: 1);

        Assert.Equal(SubscriptionStatus.Waiting, sub.Status);
        Assert.Equal((app.Id, "Web Shop", app.AccountId, app.AccountName), (sub.ApplicationId, sub.ApplicationName, sub.AccountId, sub.AccountName));
        Assert.Equal((product.Id, "Payments API", "payments-api", "Payments API, the tagline"), (sub.ProductId, sub.ProductName, sub.ProductSlug, sub.ProductDescription));
        Assert.Equal((product.Plans[1].Id, "Pro"), (sub.PlanId, sub.PlanName));
        Assert.Equal(_db.Clock.GetUtcNow(), sub.CreatedAt);
        Assert.Null(sub.DecidedAt);
        Assert.Null(sub.EndedAt);
        Assert.Equal(sub, (await Subscriptions.GetAsync(dev, sub.Id)).Value);
        await using var db = await _db.OpenAsync();
        var entry = await db.Audit.SingleAsync(a => a.Action == AuditActions.SubscriptionCreated);
        Assert.Equal(sub.Id.ToString(), entry.TargetId);
        Assert.Equal(dev.UserId, (await db.Subscriptions.SingleAsync()).CreatedBy);
    }

    [Fact]
    public async Task Subscribe_ToAProductThatNeedsNoApproval_IsApprovedAtOnce()
    {
        var product = await ProductAsync(requiresApproval: false);
        var (dev, app) = await DeveloperWithAppAsync();

        var sub = await SubscribedAsync(dev, app, product);

        Assert.Equal(SubscriptionStatus.Approved, sub.Status);
        Assert.Equal(_db.Clock.GetUtcNow(), sub.DecidedAt);
    }

    [Fact]
    public async Task Waiting_CanBeApproved_ThenNotApprovedOrRejectedAgain()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var sub = await SubscribedAsync(dev, app, product);
        _db.Clock.Advance(TimeSpan.FromHours(1));

        var approved = (await Subscriptions.ApproveAsync(_root, sub.Id, new DecideSubscription())).Value;

        Assert.Equal(SubscriptionStatus.Approved, approved.Status);
        Assert.Equal(_db.Clock.GetUtcNow(), approved.DecidedAt);
        Assert.Equal(approved, (await Subscriptions.GetAsync(dev, sub.Id)).Value);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.ApproveAsync(_root, sub.Id, new DecideSubscription())).Error);
        var reject = await Subscriptions.RejectAsync(_root, sub.Id, new DecideSubscription { Reason = "too late" });
        Assert.Contains("APPROVED", Assert.IsType<SubscriptionNotWaiting>(reject.Error).Detail);
        await using var db = await _db.OpenAsync();
        var row = await db.Subscriptions.SingleAsync();
        Assert.Equal((SubscriptionStatus.Approved, _root.UserId, (string?)null), (row.Status, row.DecidedBy, row.Reason));
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SubscriptionApproved && a.TargetId == sub.Id.ToString()));
    }

    [Fact]
    public async Task Waiting_CanBeRejectedWithAReason_TheDeveloperSeesIt_ThenNothingButReapplying()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var sub = await SubscribedAsync(dev, app, product);

        var rejected = (await Subscriptions.RejectAsync(_root, sub.Id, new DecideSubscription { Reason = "  Tell us more about your use case.  " })).Value;

        Assert.Equal(SubscriptionStatus.Rejected, rejected.Status);
        Assert.Equal("Tell us more about your use case.", (await Subscriptions.GetAsync(dev, sub.Id)).Value.Reason);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.ApproveAsync(_root, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.RejectAsync(_root, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<SubscriptionAlreadyEnded>((await Subscriptions.UnsubscribeAsync(dev, sub.Id)).Error);
        Assert.IsType<SubscriptionAlreadyEnded>((await Subscriptions.UnsubscribeAsync(_root, sub.Id)).Error);

        var again = await SubscribedAsync(dev, app, product, plan: 1);
        Assert.NotEqual(sub.Id, again.Id);
        Assert.Equal(SubscriptionStatus.Waiting, again.Status);
        var history = (await Subscriptions.ListAsync(dev, new SubscriptionQuery { ApplicationId = app.Id })).Value.Items;
        Assert.Equal([SubscriptionStatus.Waiting, SubscriptionStatus.Rejected], history.Select(s => s.Status));
        var tooLong = await Subscriptions.RejectAsync(_root, again.Id, new DecideSubscription { Reason = new string('x', 1001) });
        Assert.Contains("reason", Assert.IsType<ValidationError>(tooLong.Error).Errors.Keys);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WaitingOrApproved_CanBeUnsubscribed_ThenNotAgain_AndTheApplicationMayReapply(bool approveFirst)
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var sub = await SubscribedAsync(dev, app, product);
        if (approveFirst) await Subscriptions.ApproveAsync(_root, sub.Id, new DecideSubscription());
        _db.Clock.Advance(TimeSpan.FromMinutes(3));

        var ended = (await Subscriptions.UnsubscribeAsync(dev, sub.Id)).Value;

        Assert.Equal(SubscriptionStatus.Unsubscribed, ended.Status);
        Assert.Equal(_db.Clock.GetUtcNow(), ended.EndedAt);
        Assert.IsType<SubscriptionAlreadyEnded>((await Subscriptions.UnsubscribeAsync(dev, sub.Id)).Error);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.ApproveAsync(_root, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.RejectAsync(_root, sub.Id, new DecideSubscription())).Error);
        await using (var db = await _db.OpenAsync())
        {
            Assert.Equal(dev.UserId, (await db.Subscriptions.SingleAsync()).EndedBy);
            Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SubscriptionUnsubscribed && a.TargetId == sub.Id.ToString()));
        }

        var again = await SubscribedAsync(dev, app, product);
        Assert.Equal(SubscriptionStatus.Waiting, again.Status);
        Assert.Equal(2, (await Subscriptions.ListAsync(dev, new SubscriptionQuery())).Value.Total);
    }

    [Fact]
    public async Task OneOpenRegistrationPerProduct_WaitingOrApproved_Is409_OtherProductsAreFine()
    {
        var payments = await ProductAsync();
        var maps = await ProductAsync("Maps API");
        var (dev, app) = await DeveloperWithAppAsync();
        var first = await SubscribedAsync(dev, app, payments);

        var duplicate = await SubscribeAsync(dev, app, payments, plan: 1);
        Assert.Contains("WAITING", Assert.IsType<AlreadySubscribed>(duplicate.Error).Detail);
        await Subscriptions.ApproveAsync(_root, first.Id, new DecideSubscription());
        Assert.Contains("APPROVED", Assert.IsType<AlreadySubscribed>((await SubscribeAsync(dev, app, payments)).Error).Detail);
        Assert.True((await SubscribeAsync(dev, app, maps)).IsSuccess);
        var second = await AppAsync(dev, "Second App");
        Assert.True((await SubscribeAsync(dev, second, payments)).IsSuccess);
    }

    [Fact]
    public async Task ConcurrentSubscribes_OneWins_TheOthersAre409_NeverAnException()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => SubscribeAsync(dev, app, product))));

        Assert.Single(results, r => r.IsSuccess);
        Assert.All(results.Where(r => !r.IsSuccess), r => Assert.IsType<AlreadySubscribed>(r.Error));
        await using var db = await _db.OpenAsync();
        Assert.Equal(1, await db.Subscriptions.CountAsync());
    }

    [Fact]
    public async Task TheOpenIndex_RefusesASecondOpenRowEvenPastTheServiceCheck()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        await SubscribedAsync(dev, app, product);

        await using var db = await _db.OpenAsync();
        db.Subscriptions.Add(new Subscription { ApplicationId = app.Id, ApplicationName = app.Name, AccountId = app.AccountId, ProductId = product.Id, PlanId = product.Plans[0].Id, Status = SubscriptionStatus.Approved });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        Assert.Contains("UNIQUE", error.InnerException?.Message);
    }

    [Fact]
    public async Task Developers_CannotApproveOrReject_ReadOnlySeesAllButCannotDecide()
    {
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var sub = await SubscribedAsync(dev, app, product);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);

        Assert.IsType<ForbiddenError>((await Subscriptions.ApproveAsync(dev, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<ForbiddenError>((await Subscriptions.RejectAsync(dev, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<ForbiddenError>((await Subscriptions.ApproveAsync(readOnly, sub.Id, new DecideSubscription())).Error);
        Assert.IsType<ForbiddenError>((await Subscriptions.UnsubscribeAsync(readOnly, sub.Id)).Error);
        Assert.IsType<ForbiddenError>((await SubscribeAsync(readOnly, app, product)).Error);
        Assert.Equal(sub.Id, (await Subscriptions.GetAsync(readOnly, sub.Id)).Value.Id);
        Assert.Equal(SubscriptionStatus.Waiting, (await Subscriptions.GetAsync(_root, sub.Id)).Value.Status);
    }

    [Fact]
    public async Task AnotherAccountsApplicationOrRegistration_IsNotFound()
    {
        var product = await ProductAsync();
        var (owner, app) = await DeveloperWithAppAsync();
        var (stranger, _) = await DeveloperWithAppAsync("Stranger App");
        var sub = await SubscribedAsync(owner, app, product);

        Assert.IsType<NotFoundError>((await SubscribeAsync(stranger, app, product, plan: 1)).Error);
        Assert.IsType<NotFoundError>((await Subscriptions.GetAsync(stranger, sub.Id)).Error);
        Assert.IsType<NotFoundError>((await Subscriptions.UnsubscribeAsync(stranger, sub.Id)).Error);
        Assert.Empty((await Subscriptions.ListAsync(stranger, new SubscriptionQuery())).Value.Items);
        Assert.Empty((await Subscriptions.ListAsync(stranger, new SubscriptionQuery { ApplicationId = app.Id })).Value.Items);
        Assert.IsType<NotFoundError>((await Subscriptions.CreateAsync(owner, new CreateSubscription { ApplicationId = Guid.NewGuid(), ProductId = product.Id, PlanId = product.Plans[0].Id })).Error);
    }

    [Fact]
    public async Task TeamMembers_ManageTheTeamsRegistrations_AdminsManageAnyone()
    {
        var product = await ProductAsync();
        var (_, alice) = await _db.CreateUserAsync(Roles.Developer);
        var (_, bob) = await _db.CreateUserAsync(Roles.Developer);
        var team = (await _db.Get<AccountService>().CreateAsync(_root, new CreateAccount { Name = "Mobile Team", MemberIds = [alice.UserId, bob.UserId] })).Value;
        var app = (await _db.Get<ApplicationService>().CreateAsync(alice, new CreateApplication { Name = "Team App", AccountId = team.Id })).Value.Application;

        var sub = await SubscribedAsync(bob, app, product);
        Assert.Equal(sub.Id, (await Subscriptions.GetAsync(alice, sub.Id)).Value.Id);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.UnsubscribeAsync(alice, sub.Id)).Value.Status);

        var byAdmin = await SubscribedAsync(_root, app, product);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.UnsubscribeAsync(_root, byAdmin.Id)).Value.Status);
        // An admin key without the admin scope may not act on someone else's application.
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read, Scopes.Write]);
        Assert.IsType<ForbiddenError>((await SubscribeAsync(admin, app, product)).Error);
    }

    [Fact]
    public async Task Drafts_AreNotFoundToDevelopers_AdminsMaySubscribeToThem_PlanMustBelongToTheProduct()
    {
        var draft = await ProductAsync("Draft API", published: false);
        var other = await ProductAsync("Other API");
        var (dev, app) = await DeveloperWithAppAsync();

        Assert.IsType<NotFoundError>((await SubscribeAsync(dev, app, draft)).Error);
        Assert.IsType<NotFoundError>((await Subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id, ProductId = Guid.NewGuid(), PlanId = other.Plans[0].Id })).Error);
        var wrongPlan = await Subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id, ProductId = other.Id, PlanId = draft.Plans[0].Id });
        Assert.Contains("planId", Assert.IsType<ValidationError>(wrongPlan.Error).Errors.Keys);
        var missing = await Subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id });
        var missingFields = Assert.IsType<ValidationError>(missing.Error).Errors;
        Assert.Contains("productId", missingFields.Keys);
        Assert.Contains("planId", missingFields.Keys);

        Assert.True((await SubscribeAsync(_root, app, draft)).IsSuccess);
    }

    [Fact]
    public async Task List_FiltersByStatusApplicationProductAccountAndSearch_AndPages()
    {
        var payments = await ProductAsync();
        var maps = await ProductAsync("Maps API");
        var (dev, shop) = await DeveloperWithAppAsync();
        var (dev2, ios) = await DeveloperWithAppAsync("Mobile iOS App");
        var a = await SubscribedAsync(dev, shop, payments);
        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        var b = await SubscribedAsync(dev, shop, maps);
        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        var c = await SubscribedAsync(dev2, ios, payments);
        await Subscriptions.ApproveAsync(_root, b.Id, new DecideSubscription());
        await Subscriptions.RejectAsync(_root, c.Id, new DecideSubscription());

        async Task<IEnumerable<Guid>> Ids(SubscriptionQuery q) => (await Subscriptions.ListAsync(_root, q)).Value.Items.Select(s => s.Id);
        Assert.Equal([c.Id, b.Id, a.Id], await Ids(new SubscriptionQuery()));
        Assert.Equal([a.Id], await Ids(new SubscriptionQuery { Status = SubscriptionStatus.Waiting }));
        Assert.Equal([c.Id], await Ids(new SubscriptionQuery { Status = SubscriptionStatus.Rejected }));
        Assert.Equal([b.Id, a.Id], await Ids(new SubscriptionQuery { ApplicationId = shop.Id }));
        Assert.Equal([c.Id, a.Id], await Ids(new SubscriptionQuery { ProductId = payments.Id }));
        Assert.Equal([c.Id], await Ids(new SubscriptionQuery { AccountId = ios.AccountId }));
        Assert.Equal([c.Id], await Ids(new SubscriptionQuery { Search = "ios" }));
        Assert.Equal([b.Id], await Ids(new SubscriptionQuery { Search = "MAPS" }));
        await using (var db = await _db.OpenAsync())
            await db.Accounts.Where(x => x.Id == ios.AccountId).ExecuteUpdateAsync(set => set.SetProperty(x => x.Name, "Globex Corp"));
        Assert.Equal([c.Id], await Ids(new SubscriptionQuery { Search = "globex" }));
        Assert.Equal([a.Id, b.Id, c.Id], await Ids(new SubscriptionQuery { Sort = "createdAt" }));
        var page = (await Subscriptions.ListAsync(_root, new SubscriptionQuery { Page = 2, PageSize = 2 })).Value;
        Assert.Equal((3, 2, 2), (page.Total, page.Page, page.PageSize));
        Assert.Equal([a.Id], page.Items.Select(s => s.Id));
        Assert.Equal([a.Id, b.Id], (await Subscriptions.ListAsync(dev, new SubscriptionQuery { Sort = "createdAt" })).Value.Items.Select(s => s.Id));
        // Mine: the caller's own accounts only, even for the super-admin who sees everyone's (and owns nothing here).
        Assert.Empty(await Ids(new SubscriptionQuery { Mine = true }));
        Assert.Equal([c.Id], (await Subscriptions.ListAsync(dev2, new SubscriptionQuery { Mine = true })).Value.Items.Select(s => s.Id));

        // Counts per status under the other filters, every status present (zero too); the query's own status is ignored.
        var all = (await Subscriptions.CountByStatusAsync(_root, new SubscriptionQuery { Status = SubscriptionStatus.Approved })).Value;
        Assert.Equal((1, 1, 1, 0), (all[SubscriptionStatus.Waiting], all[SubscriptionStatus.Approved], all[SubscriptionStatus.Rejected], all[SubscriptionStatus.Unsubscribed]));
        var forPayments = (await Subscriptions.CountByStatusAsync(_root, new SubscriptionQuery { ProductId = payments.Id, Search = "shop" })).Value;
        Assert.Equal((1, 0, 0), (forPayments[SubscriptionStatus.Waiting], forPayments[SubscriptionStatus.Approved], forPayments[SubscriptionStatus.Rejected]));
        Assert.Equal(1, (await Subscriptions.CountByStatusAsync(dev2, new SubscriptionQuery())).Value.Values.Sum());
    }

    [Fact]
    public async Task EveryChange_InvalidatesTheVerificationCache()
    {
        var cache = _db.Get<VerificationCache>();
        var product = await ProductAsync();
        var (dev, app) = await DeveloperWithAppAsync();
        var steps = new List<Func<Task>>();
        SubscriptionDto? sub = null;
        steps.Add(async () => sub = await SubscribedAsync(dev, app, product));
        steps.Add(async () => await Subscriptions.ApproveAsync(_root, sub!.Id, new DecideSubscription()));
        steps.Add(async () => await Subscriptions.UnsubscribeAsync(dev, sub!.Id));
        steps.Add(async () => sub = await SubscribedAsync(dev, app, product));
        steps.Add(async () => await Subscriptions.RejectAsync(_root, sub!.Id, new DecideSubscription()));
        foreach (var step in steps)
        {
            var before = cache.Generation;
            await step();
            Assert.True(cache.Generation > before);
        }
    }

    [Fact]
    public async Task DeletingTheApplication_EndsItsOpenRegistrations_KeepsAllOfThem_AndItsKeyVerifiesAsRevoked()
    {
        var payments = await ProductAsync();
        var maps = await ProductAsync("Maps API", requiresApproval: false);
        var fx = await ProductAsync("FX Rates API");
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var created = (await _db.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = "Web Shop" })).Value;
        var app = created.Application;
        var waiting = await SubscribedAsync(dev, app, payments);
        var approved = await SubscribedAsync(dev, app, maps);
        var rejected = await SubscribedAsync(dev, app, fx);
        Assert.Equal(SubscriptionStatus.Approved, approved.Status);
        Assert.True((await Subscriptions.RejectAsync(_root, rejected.Id, new DecideSubscription { Reason = "Not for resale." })).IsSuccess);
        await using (var db = await _db.OpenAsync())
        {
            db.QuotaCounters.Add(new QuotaCounter { SubscriptionId = approved.Id, PeriodStart = _db.Clock.GetUtcNow(), Used = 3 });
            await db.SaveChangesAsync();
        }
        // Renamed after subscribing: the registrations keep the name it had last.
        Assert.True((await _db.Get<ApplicationService>().UpdateAsync(dev, app.Id, new UpdateApplication { Name = "Web Shop (old)" })).IsSuccess);
        var (_, gateway) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read]);
        var verification = _db.Get<VerificationService>();
        Assert.Equal(VerifyCode.Valid, (await verification.VerifyAsync(gateway, new VerifyKey { Key = created.Key.Key, Product = maps.Slug })).Value.Code);
        var cache = _db.Get<VerificationCache>();
        var before = cache.Generation;
        _db.Clock.Advance(TimeSpan.FromHours(2));

        Assert.True((await _db.Get<ApplicationService>().DeleteAsync(dev, app.Id)).IsSuccess);

        Assert.True(cache.Generation > before);
        Assert.Equal(VerifyCode.Revoked, (await verification.VerifyAsync(gateway, new VerifyKey { Key = created.Key.Key, Product = maps.Slug })).Value.Code);
        var now = _db.Clock.GetUtcNow();
        foreach (var (sub, status) in new[] { (waiting, SubscriptionStatus.Unsubscribed), (approved, SubscriptionStatus.Unsubscribed), (rejected, SubscriptionStatus.Rejected) })
        {
            var kept = (await Subscriptions.GetAsync(_root, sub.Id)).Value;
            Assert.Equal(status, kept.Status);
            Assert.Null(kept.ApplicationId);
            Assert.Equal(("Web Shop (old)", app.AccountId, app.AccountName), (kept.ApplicationName, kept.AccountId, kept.AccountName));
            Assert.Equal((sub.ProductId, sub.PlanId, sub.CreatedAt), (kept.ProductId, kept.PlanId, kept.CreatedAt));
            Assert.Equal(status == SubscriptionStatus.Unsubscribed ? now : (DateTimeOffset?)null, kept.EndedAt);
        }
        var stillRejected = (await Subscriptions.GetAsync(_root, rejected.Id)).Value;
        Assert.Equal(("Not for resale.", now.AddHours(-2)), (stillRejected.Reason, stillRejected.DecidedAt!.Value));
        Assert.IsType<SubscriptionAlreadyEnded>((await Subscriptions.UnsubscribeAsync(_root, waiting.Id)).Error);
        Assert.IsType<SubscriptionNotWaiting>((await Subscriptions.ApproveAsync(_root, waiting.Id, new DecideSubscription())).Error);
        Assert.Equal([approved.Id, waiting.Id],
            (await Subscriptions.ListAsync(_root, new SubscriptionQuery { AccountId = app.AccountId, Status = SubscriptionStatus.Unsubscribed, Sort = "product" })).Value.Items.Select(s => s.Id));
        Assert.Equal(3, (await Subscriptions.ListAsync(_root, new SubscriptionQuery { Search = "web shop (old)" })).Value.Total);

        await using var check = await _db.OpenAsync();
        Assert.Equal(3, await check.Subscriptions.CountAsync());
        var ended = await check.Subscriptions.Where(s => s.Status == SubscriptionStatus.Unsubscribed).ToListAsync();
        Assert.All(ended, s => Assert.Equal((now, (Guid?)dev.UserId), (s.EndedAt!.Value, s.EndedBy)));
        Assert.True(await check.QuotaCounters.AnyAsync(c => c.SubscriptionId == approved.Id));
        Assert.Contains("2 open product registration(s) ended", (await check.Audit.SingleAsync(a => a.Action == AuditActions.ApplicationDeleted)).Details);
        // Each ended registration has its own entry, as an unsubscribe writes.
        var entries = await check.Audit.Where(a => a.Action == AuditActions.SubscriptionUnsubscribed).ToListAsync();
        Assert.Equal(new[] { approved.Id.ToString(), waiting.Id.ToString() }.Order(), entries.Select(e => e.TargetId).Order());
        Assert.Contains(entries, e => e.Details == "WAITING → UNSUBSCRIBED; plan: Free; the application was removed" && e.Target == "Web Shop (old) → Payments API");
        // Nothing is open on the products any more, so they may go, their ended registrations with them.
        Assert.True((await _db.Get<ProductService>().DeleteAsync(_root, maps.Id)).IsSuccess);
    }

    [Fact]
    public async Task ARemovedApplicationsRegistrations_StayVisibleToItsAccount_NotToOthers()
    {
        var product = await ProductAsync(requiresApproval: false);
        var (dev, app) = await DeveloperWithAppAsync();
        var (stranger, _) = await DeveloperWithAppAsync("Stranger App");
        var sub = await SubscribedAsync(dev, app, product);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);

        Assert.True((await _db.Get<ApplicationService>().DeleteAsync(dev, app.Id)).IsSuccess);

        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.GetAsync(dev, sub.Id)).Value.Status);
        Assert.Equal([sub.Id], (await Subscriptions.ListAsync(dev, new SubscriptionQuery())).Value.Items.Select(s => s.Id));
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Subscriptions.GetAsync(readOnly, sub.Id)).Value.Status);
        Assert.IsType<NotFoundError>((await Subscriptions.GetAsync(stranger, sub.Id)).Error);
        Assert.Empty((await Subscriptions.ListAsync(stranger, new SubscriptionQuery())).Value.Items);
        Assert.IsType<NotFoundError>((await Subscriptions.UnsubscribeAsync(stranger, sub.Id)).Error);
        Assert.IsType<SubscriptionAlreadyEnded>((await Subscriptions.UnsubscribeAsync(dev, sub.Id)).Error);
    }

    [Fact]
    public async Task AfterDeletingTheApplication_ANewOneWithTheSameName_RegistersToTheSameProductAgain()
    {
        var product = await ProductAsync(requiresApproval: false);
        var (dev, app) = await DeveloperWithAppAsync();
        var old = await SubscribedAsync(dev, app, product);
        Assert.True((await _db.Get<ApplicationService>().DeleteAsync(dev, app.Id)).IsSuccess);

        var again = await AppAsync(dev, "Web Shop");
        var renewed = await SubscribedAsync(dev, again, product);

        Assert.Equal(app.AccountId, again.AccountId);
        Assert.Equal((SubscriptionStatus.Approved, (Guid?)again.Id, "Web Shop"), (renewed.Status, renewed.ApplicationId, renewed.ApplicationName));
        Assert.IsType<AlreadySubscribed>((await SubscribeAsync(dev, again, product, plan: 1)).Error);
        var history = (await Subscriptions.ListAsync(_root, new SubscriptionQuery { ProductId = product.Id })).Value.Items;
        Assert.Equal([(renewed.Id, (Guid?)again.Id, SubscriptionStatus.Approved), (old.Id, null, SubscriptionStatus.Unsubscribed)],
            history.Select(s => (s.Id, s.ApplicationId, s.Status)));
        Assert.Equal([renewed.Id], (await Subscriptions.ListAsync(dev, new SubscriptionQuery { ApplicationId = again.Id })).Value.Items.Select(s => s.Id));
    }
}

public sealed class SubscriptionApplicationBackfillTests
{
    [Fact]
    public async Task Migration_GivesEveryRegistrationItsApplicationsNameAndAccount_AndKeepsTheOpenIndex()
    {
        await using var database = await TestDatabase.CreateAsync();
        var root = await database.RootAsync();
        var (_, dev) = await database.CreateUserAsync(Roles.Developer);
        var app = (await database.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = "Web Shop" })).Value.Application;
        var product = (await database.Get<ProductService>().CreateAsync(root, new CreateProduct
        {
            Name = "Payments API", Published = true, Plans = [ProductServiceTests.Plan("Free")],
        })).Value;
        var subscriptions = database.Get<SubscriptionService>();
        var ended = (await subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[0].Id })).Value;
        await subscriptions.UnsubscribeAsync(dev, ended.Id);
        var open = (await subscriptions.CreateAsync(dev, new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[0].Id })).Value;

        // Back to before registrations kept them (the columns go), then forward again: the migration fills them in.
        await using (var db = await database.OpenAsync())
        {
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync("20261123130101_Products");
            await migrator.MigrateAsync();
        }

        await using (var db = await database.OpenAsync())
        {
            var rows = await db.Subscriptions.ToListAsync();
            Assert.Equal(2, rows.Count);
            Assert.All(rows, s => Assert.Equal(((Guid?)app.Id, "Web Shop", app.AccountId), (s.ApplicationId, s.ApplicationName, s.AccountId)));
            db.Subscriptions.Add(new Subscription
            {
                ApplicationId = app.Id, ApplicationName = app.Name, AccountId = app.AccountId, ProductId = product.Id, PlanId = product.Plans[0].Id,
                Status = SubscriptionStatus.Waiting,
            });
            Assert.Contains("UNIQUE", (await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync())).InnerException?.Message);
        }
        Assert.True((await database.Get<ApplicationService>().DeleteAsync(dev, app.Id)).IsSuccess);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await subscriptions.GetAsync(root, open.Id)).Value.Status);
    }
}
