using System.Reflection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Cluster;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Tests.Core.Products;
using Portal.Tests.Core.Profile;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Verification;

/// <summary>
/// Every fact the key and verification caches hold, changed through the service that owns it: the cache is warmed
/// first (a second verification and an authentication read nothing from the database), and the very next verification
/// and authentication see the change, with the clock standing still (no time to live runs out). No service invalidates
/// by hand: what each save changed does (<see cref="CacheInvalidation"/>).
/// </summary>
public abstract class CacheFollowsTheDataTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    private Actor _gateway = null!;

    private ApiKeyService Keys => _db.Get<ApiKeyService>();
    private VerificationService Verification => _db.Get<VerificationService>();
    private ApplicationService Applications => _db.Get<ApplicationService>();
    private SubscriptionService Subscriptions => _db.Get<SubscriptionService>();
    private ProductService Products => _db.Get<ProductService>();

    public async ValueTask InitializeAsync()
    {
        // Identity's user manager too, for the change it saves through its own store.
        _db = await TestDatabase.CreateAsync(SelfServiceSetup.With(), provider);
        _root = await _db.RootAsync();
        _gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor;
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private sealed record App(Actor Developer, Guid Id, Guid AccountId, Guid KeyId, string Key);

    private async Task<App> AppAsync(Actor? developer = null, DateTimeOffset? keyExpiresAt = null)
    {
        developer ??= (await _db.CreateUserAsync(Roles.Developer)).Actor;
        var created = await Applications.CreateAsync(developer, new CreateApplication { Name = $"app-{Guid.NewGuid():N}" });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var app = created.Value.Application;
        if (keyExpiresAt is null) return new App(developer, app.Id, app.AccountId, created.Value.Key.Id, created.Value.Key.Key);
        var key = await Applications.GenerateKeyAsync(developer, app.Id, new GenerateApplicationKey { ExpiresAt = keyExpiresAt });
        Assert.True(key.IsSuccess, key.Error?.Detail);
        return new App(developer, app.Id, app.AccountId, key.Value.Id, key.Value.Key);
    }

    private async Task<ProductDto> ProductAsync(bool requiresApproval = false)
    {
        var name = $"Payments {Guid.NewGuid():N}"[..20];
        var result = await Products.CreateAsync(_root, new CreateProduct
        {
            Name = name,
            Published = true,
            RequiresApproval = requiresApproval,
            Plans = [ProductServiceTests.Plan("Free"), ProductServiceTests.Plan("Pro", PlanType.Subscription)],
        });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private async Task<SubscriptionDto> SubscribeAsync(App app, ProductDto product)
    {
        var result = await Subscriptions.CreateAsync(app.Developer,
            new CreateSubscription { ApplicationId = app.Id, ProductId = product.Id, PlanId = product.Plans[0].Id });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    /// <summary>An application with an APPROVED subscription to a new product.</summary>
    private async Task<(App App, ProductDto Product, SubscriptionDto Subscription)> SubscribedAsync()
    {
        var app = await AppAsync();
        var product = await ProductAsync();
        return (app, product, await SubscribeAsync(app, product));
    }

    /// <summary>A personal key of a new developer, and a published product to verify it against (NOT_SUBSCRIBED: it belongs to no application).</summary>
    private async Task<(Actor Owner, ApiKeyIssued Key, ProductDto Product)> PersonalKeyAsync()
    {
        var (_, owner) = await _db.CreateUserAsync(Roles.Developer);
        var key = await Keys.CreateAsync(owner, new CreateApiKey { Name = "ci", Scopes = [Scopes.Read] });
        Assert.True(key.IsSuccess, key.Error?.Detail);
        return (owner, key.Value, await ProductAsync());
    }

    private async Task<VerifyResult> VerifyAsync(string key, string product)
    {
        var result = await Verification.VerifyAsync(_gateway, new VerifyKey { Key = key, Product = product });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    private (long Keys, long Verification) DatabaseReads => (Keys.DatabaseLookups, Verification.DatabaseLookups);

    /// <summary>
    /// Verifies and authenticates until both answer from memory: the second verification and the authentication read
    /// nothing from the database. Returns the verification's answer and the authenticated identity.
    /// </summary>
    private async Task<(VerifyResult Verified, KeyIdentity Identity)> WarmAsync(string key, string product)
    {
        var verified = await VerifyAsync(key, product);
        var reads = DatabaseReads;
        Assert.Equal(verified.Code, (await VerifyAsync(key, product)).Code);
        var check = await Keys.AuthenticateAsync(key);
        Assert.Equal(KeyCheckCode.Valid, check.Code);
        Assert.Equal(reads, DatabaseReads);
        return (verified, check.Identity!);
    }

    [Fact]
    public async Task KeyRevoked_ApplicationKey_IsRefusedAtOnce()
    {
        var (app, product, _) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await WarmAsync(app.Key, product.Slug)).Verified.Code);

        Assert.True((await Applications.RevokeKeyAsync(app.Developer, app.Id, app.KeyId)).IsSuccess);

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task KeyRevoked_PersonalKey_IsRefusedAtOnce()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        Assert.Equal(VerifyCode.NotSubscribed, (await WarmAsync(key.Key, product.Slug)).Verified.Code);

        Assert.True((await Keys.RevokeAsync(owner, key.Id)).IsSuccess);

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(key.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(key.Key)).Code);
    }

    [Fact]
    public async Task KeyDeleted_IsNotFoundAtOnce()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        Assert.True((await Keys.DeleteAsync(owner, key.Id)).IsSuccess);

        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(key.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.NotFound, (await Keys.AuthenticateAsync(key.Key)).Code);
    }

    [Fact]
    public async Task KeyRegenerated_TheOldSecretStopsAtOnce_AndTheNewOneWorks()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        var regenerated = await Keys.RegenerateAsync(owner, key.Id, new RegenerateApiKey());

        Assert.True(regenerated.IsSuccess, regenerated.Error?.Detail);
        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(key.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.NotFound, (await Keys.AuthenticateAsync(key.Key)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(regenerated.Value.Key)).Code);
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(regenerated.Value.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task KeyExpired_ByTime_IsRefusedAtItsExpiry_BeforeTheCacheEntryRunsOut()
    {
        var app = await AppAsync(keyExpiresAt: _db.Clock.GetUtcNow().AddSeconds(10));
        var product = await ProductAsync();
        await SubscribeAsync(app, product);
        Assert.Equal(VerifyCode.Valid, (await WarmAsync(app.Key, product.Slug)).Verified.Code);

        _db.Clock.Advance(TimeSpan.FromSeconds(10));

        Assert.True(TimeSpan.FromSeconds(10) < ApiKeyCache.TimeToLive);
        Assert.Equal(VerifyCode.Expired, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Expired, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task OwnerDeactivated_TheirKeysAreDisabledAtOnce()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        Assert.True((await _db.Get<UserService>().UpdateAsync(_root, owner.UserId, new UpdateUser { Status = UserStatus.Inactive })).IsSuccess);

        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(key.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Disabled, (await Keys.AuthenticateAsync(key.Key)).Code);
    }

    [Fact]
    public async Task OwnerDeleted_TheirKeysStopAtOnce()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        Assert.True((await _db.Get<UserService>().DeleteAsync(_root, owner.UserId)).IsSuccess);

        Assert.NotEqual(VerifyCode.NotSubscribed, (await VerifyAsync(key.Key, product.Slug)).Code);
        Assert.False((await Keys.AuthenticateAsync(key.Key)).IsValid);
    }

    [Fact]
    public async Task RolesChanged_TheNextAuthenticationCarriesTheNewRoles()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        Assert.Equal([Roles.Developer], (await WarmAsync(key.Key, product.Slug)).Identity.Roles);

        Assert.True((await _db.Get<UserService>().UpdateAsync(_root, owner.UserId, new UpdateUser { Roles = [Roles.ReadOnly] })).IsSuccess);

        Assert.Equal([Roles.ReadOnly], (await Keys.AuthenticateAsync(key.Key)).Identity!.Roles);
        // Verification does not depend on roles: the key still belongs to no application.
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(key.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task RolesChanged_ThroughIdentitysUserManager_TheNextAuthenticationCarriesTheNewRoles()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        // Identity saves through its own store, on a context of the same type as the services'.
        await using (var scope = _db.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            var user = await users.FindByIdAsync(owner.UserId.ToString());
            Assert.True((await users.AddToRoleAsync(user!, Roles.ReadOnly)).Succeeded);
        }

        Assert.Equal([Roles.Developer, Roles.ReadOnly], (await Keys.AuthenticateAsync(key.Key)).Identity!.Roles.Order());
    }

    [Fact]
    public async Task OwnerRenamed_TheNextAuthenticationCarriesTheNewName()
    {
        var (owner, key, product) = await PersonalKeyAsync();
        await WarmAsync(key.Key, product.Slug);

        Assert.True((await _db.Get<ProfileService>().UpdateAsync(owner, new UpdateProfile { DisplayName = "Ada Lovelace" })).IsSuccess);

        Assert.Equal("Ada Lovelace", (await Keys.AuthenticateAsync(key.Key)).Identity!.DisplayName);
    }

    [Fact]
    public async Task AccountSuspended_ItsApplicationKeysAreDisabledAtOnce_OthersStayInMemory()
    {
        var (app, product, _) = await SubscribedAsync();
        var other = await AppAsync();
        await SubscribeAsync(other, product);
        await WarmAsync(app.Key, product.Slug);
        await WarmAsync(other.Key, product.Slug);

        Assert.True((await _db.Get<AccountService>().SetStatusAsync(_root, app.AccountId, AccountStatus.Suspended)).IsSuccess);

        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Disabled, (await Keys.AuthenticateAsync(app.Key)).Code);
        // Only the suspended account's keys were dropped from the key cache.
        var reads = Keys.DatabaseLookups;
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(other.Key)).Code);
        Assert.Equal(reads, Keys.DatabaseLookups);
    }

    [Fact]
    public async Task SubscriptionApproved_TheNextVerificationIsValid()
    {
        var app = await AppAsync();
        var product = await ProductAsync(requiresApproval: true);
        var waiting = await SubscribeAsync(app, product);
        Assert.Equal(VerifyCode.NotSubscribed, (await WarmAsync(app.Key, product.Slug)).Verified.Code);

        Assert.True((await Subscriptions.ApproveAsync(_root, waiting.Id, new DecideSubscription())).IsSuccess);

        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task SubscriptionRejected_TheNextVerificationReadsItAgain()
    {
        var app = await AppAsync();
        var product = await ProductAsync(requiresApproval: true);
        var waiting = await SubscribeAsync(app, product);
        await WarmAsync(app.Key, product.Slug);

        Assert.True((await Subscriptions.RejectAsync(_root, waiting.Id, new DecideSubscription { Reason = "No." })).IsSuccess);

        // Waiting and rejected both answer NOT_SUBSCRIBED; what shows the change was seen is that it was read again.
        var reads = Verification.DatabaseLookups;
        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.True(Verification.DatabaseLookups > reads);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task Unsubscribed_TheNextVerificationIsNotSubscribed()
    {
        var (app, product, subscription) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await WarmAsync(app.Key, product.Slug)).Verified.Code);

        Assert.True((await Subscriptions.UnsubscribeAsync(app.Developer, subscription.Id)).IsSuccess);

        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task PlanEdited_TheNextVerificationAnswersWithTheNewLimits()
    {
        var (app, product, _) = await SubscribedAsync();
        Assert.Equal(10, (await WarmAsync(app.Key, product.Slug)).Verified.Ratelimit!.Limit);

        var free = ProductServiceTests.Plan("Free");
        (free.Id, free.RateLimit, free.Quota) = (product.Plans[0].Id, 500, 9000);
        var pro = ProductServiceTests.Plan("Pro", PlanType.Subscription);
        pro.Id = product.Plans[1].Id;
        var updated = await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Plans = [free, pro] });
        Assert.True(updated.IsSuccess, updated.Error?.Detail);

        var verified = await VerifyAsync(app.Key, product.Slug);
        Assert.Equal(VerifyCode.Valid, verified.Code);
        Assert.Equal((500L, 9000L), (verified.Ratelimit!.Limit, verified.Quota!.Limit));
    }

    [Fact]
    public async Task ProductUnpublished_IsNotFoundAtOnceForThoseNotSubscribed_AndKeepsWorkingForThoseWhoAre()
    {
        var (subscribed, product, _) = await SubscribedAsync();
        var browsing = await AppAsync();
        Assert.Equal(VerifyCode.NotSubscribed, (await WarmAsync(browsing.Key, product.Slug)).Verified.Code);
        Assert.Equal(VerifyCode.Valid, (await WarmAsync(subscribed.Key, product.Slug)).Verified.Code);

        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Published = false })).IsSuccess);

        Assert.Equal(VerifyCode.NotFound, (await VerifyAsync(browsing.Key, product.Slug)).Code);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(subscribed.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(browsing.Key)).Code);
    }

    [Fact]
    public async Task ProductCreated_ASlugAnsweredNotFoundBeforeIsFoundAtOnce()
    {
        var app = await AppAsync();
        var slug = $"maps-{Guid.NewGuid():N}"[..16];
        Assert.Equal(VerifyCode.NotFound, (await WarmAsync(app.Key, slug)).Verified.Code);

        var created = await Products.CreateAsync(_root, new CreateProduct { Name = "Maps", Slug = slug, Published = true, Plans = [ProductServiceTests.Plan("Free")] });
        Assert.True(created.IsSuccess, created.Error?.Detail);

        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, slug)).Code);
    }

    [Fact]
    public async Task ApplicationDeleted_ItsKeysAreRevokedAtOnce()
    {
        var (app, product, _) = await SubscribedAsync();
        Assert.Equal(VerifyCode.Valid, (await WarmAsync(app.Key, product.Slug)).Verified.Code);

        Assert.True((await Applications.DeleteAsync(app.Developer, app.Id)).IsSuccess);

        Assert.Equal(VerifyCode.Revoked, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task ApplicationRenamed_TheNextAuthenticationCarriesTheNewName()
    {
        var (app, product, _) = await SubscribedAsync();
        await WarmAsync(app.Key, product.Slug);

        Assert.True((await Applications.UpdateAsync(app.Developer, app.Id, new UpdateApplication { Name = "Renamed shop" })).IsSuccess);

        Assert.Equal("Renamed shop", (await Keys.AuthenticateAsync(app.Key)).Identity!.DisplayName);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    private GatewayRoutes Routes => _db.Get<GatewayRoutes>();
    private SignInChanges SignIns => _db.Get<SignInChanges>();

    [Fact]
    public async Task ProductCreated_ItsRouteIsFoundAtOnce()
    {
        var slug = $"maps-{Guid.NewGuid():N}"[..16];
        Assert.Null(await Routes.FindAsync(slug)); // the table is in memory now, without this slug

        var created = await Products.CreateAsync(_root, new CreateProduct
        {
            Name = "Maps", Slug = slug, Published = true, UpstreamUrl = "http://127.0.0.1:9/maps", Plans = [ProductServiceTests.Plan("Free")],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);

        Assert.Equal("http://127.0.0.1:9/maps", (await Routes.FindAsync(slug))?.Upstream.ToString());
    }

    [Fact]
    public async Task ProductUpstreamEdited_UnpublishedAndDeleted_TheNextRouteLookupSeesEach()
    {
        var product = await ProductAsync();
        Assert.Null(await Routes.FindAsync(product.Slug)); // no upstream yet

        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { UpstreamUrl = "http://127.0.0.1:9/v1" })).IsSuccess);
        Assert.Equal("http://127.0.0.1:9/v1", (await Routes.FindAsync(product.Slug))?.Upstream.ToString());

        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { UpstreamUrl = "http://127.0.0.1:9/v2" })).IsSuccess);
        Assert.Equal("http://127.0.0.1:9/v2", (await Routes.FindAsync(product.Slug))?.Upstream.ToString());

        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Published = false })).IsSuccess);
        Assert.False((await Routes.FindAsync(product.Slug))!.Published);

        Assert.True((await Products.DeleteAsync(_root, product.Id)).IsSuccess);
        Assert.Null(await Routes.FindAsync(product.Slug));
    }

    [Fact]
    public async Task ProductEdited_OutsideItsRoute_KeepsTheRoutesInMemory()
    {
        var product = await ProductAsync();
        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { UpstreamUrl = "http://127.0.0.1:9/v1" })).IsSuccess);
        var route = await Routes.FindAsync(product.Slug);

        Assert.True((await Products.UpdateAsync(_root, product.Id, new UpdateProduct { Description = "Cards and wallets." })).IsSuccess);

        Assert.Same(route, await Routes.FindAsync(product.Slug));
    }

    [Fact]
    public async Task RolesChanged_TheUsersSessionsHearOfItAtOnce()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.False(SignIns.ChangedSince(user.Id, null));

        Assert.True((await _db.Get<UserService>().UpdateAsync(_root, user.Id, new UpdateUser { Roles = [Roles.ReadOnly] })).IsSuccess);

        Assert.True(SignIns.ChangedSince(user.Id, null));
    }

    [Fact]
    public async Task RenamedOnly_TheUsersSessionsHearNothing()
    {
        var (_, owner) = await _db.CreateUserAsync(Roles.Developer);

        Assert.True((await _db.Get<ProfileService>().UpdateAsync(owner, new UpdateProfile { DisplayName = "Ada Lovelace" })).IsSuccess);

        Assert.False(SignIns.ChangedSince(owner.UserId, null));
    }

    [Fact]
    public async Task OtherSessionsSignedOut_Deactivated_OrDeleted_TheUsersSessionsHearOfItAtOnce()
    {
        var (_, ending) = await _db.CreateUserAsync(Roles.Developer);
        var (inactive, _) = await _db.CreateUserAsync(Roles.Developer);
        var (deleted, _) = await _db.CreateUserAsync(Roles.Developer);

        Assert.True((await _db.Get<ProfileService>().SignOutOtherSessionsAsync(ending)).IsSuccess);
        Assert.True((await _db.Get<UserService>().UpdateAsync(_root, inactive.Id, new UpdateUser { Status = UserStatus.Inactive })).IsSuccess);
        Assert.True((await _db.Get<UserService>().DeleteAsync(_root, deleted.Id)).IsSuccess);

        Assert.True(SignIns.ChangedSince(ending.UserId, null));
        Assert.True(SignIns.ChangedSince(inactive.Id, null));
        Assert.True(SignIns.ChangedSince(deleted.Id, null));
    }

    [Fact]
    public async Task ASaveInATransaction_DropsNothingUntilItCommits()
    {
        var (app, product, _) = await SubscribedAsync();
        await WarmAsync(app.Key, product.Slug);
        var generation = _db.Get<VerificationCache>().Generation;

        await using (var db = await _db.OpenAsync())
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            var account = await db.Accounts.AsTracking().SingleAsync(a => a.Id == app.AccountId);
            account.Status = AccountStatus.Suspended;
            await db.SaveChangesAsync();
            Assert.Equal(generation, _db.Get<VerificationCache>().Generation);

            await tx.CommitAsync();
            Assert.True(_db.Get<VerificationCache>().Generation > generation);
        }

        Assert.Equal(VerifyCode.Disabled, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Disabled, (await Keys.AuthenticateAsync(app.Key)).Code);
    }

    [Fact]
    public async Task ARolledBackSave_DropsNothing()
    {
        var (app, product, _) = await SubscribedAsync();
        await WarmAsync(app.Key, product.Slug);
        var generation = _db.Get<VerificationCache>().Generation;
        var reads = DatabaseReads;

        await using (var db = await _db.OpenAsync())
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            var account = await db.Accounts.AsTracking().SingleAsync(a => a.Id == app.AccountId);
            account.Status = AccountStatus.Suspended;
            await db.SaveChangesAsync();
            await tx.RollbackAsync();
        }
        // Nor one whose transaction is dropped without a word.
        await using (var db = await _db.OpenAsync())
        {
            var tx = await db.Database.BeginTransactionAsync();
            var key = await db.ApiKeys.AsTracking().SingleAsync(k => k.Id == app.KeyId);
            key.RevokedAt = _db.Clock.GetUtcNow();
            await db.SaveChangesAsync();
            await tx.DisposeAsync();
        }

        Assert.Equal(generation, _db.Get<VerificationCache>().Generation);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(app.Key)).Code);
        Assert.Equal(reads, DatabaseReads);
    }

    [Fact]
    public async Task AFailedSave_DropsNothing()
    {
        var (app, product, _) = await SubscribedAsync();
        await WarmAsync(app.Key, product.Slug);
        var generation = _db.Get<VerificationCache>().Generation;
        var reads = DatabaseReads;

        await using (var db = await _db.OpenAsync())
        {
            var account = await db.Accounts.AsTracking().SingleAsync(a => a.Id == app.AccountId);
            account.Status = AccountStatus.Suspended;
            // A second product with the same slug: the unique index refuses the save, the suspension with it.
            db.Products.Add(new ApiProduct { Name = "Copy", Slug = product.Slug, CreatedAt = _db.Clock.GetUtcNow(), UpdatedAt = _db.Clock.GetUtcNow() });
            await Assert.ThrowsAnyAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(generation, _db.Get<VerificationCache>().Generation);
        Assert.Equal(VerifyCode.Valid, (await VerifyAsync(app.Key, product.Slug)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(app.Key)).Code);
        Assert.Equal(reads, DatabaseReads);
    }

    [Fact]
    public async Task ABulkUpdate_IsSeenByTheTableItWrites()
    {
        var (app, product, subscription) = await SubscribedAsync();
        await WarmAsync(app.Key, product.Slug);

        await using (var db = await _db.OpenAsync())
            await db.Subscriptions.Where(s => s.Id == subscription.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed));

        Assert.Equal(VerifyCode.NotSubscribed, (await VerifyAsync(app.Key, product.Slug)).Code);
    }

    [Fact]
    public async Task ABulkUpdateOfKeys_DropsEveryKey_ItsRowsAreUnknown()
    {
        var (app, product, _) = await SubscribedAsync();
        var other = await AppAsync();
        await WarmAsync(app.Key, product.Slug);
        await WarmAsync(other.Key, product.Slug);

        await using (var db = await _db.OpenAsync())
            await db.ApiKeys.Where(k => k.Id == app.KeyId).ExecuteUpdateAsync(set => set.SetProperty(k => k.RevokedAt, _db.Clock.GetUtcNow()));

        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(app.Key)).Code);
        var reads = Keys.DatabaseLookups;
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(other.Key)).Code);
        Assert.True(Keys.DatabaseLookups > reads);
    }
}

public sealed class CacheFollowsTheDataOnSqliteTests() : CacheFollowsTheDataTests(DatabaseProvider.Sqlite)
{
    /// <summary>No service takes a cache only to invalidate it: those that take one read it, or keep it right.</summary>
    [Fact]
    public void OnlyTheCachesReadersAndTheirInvalidation_TakeACache()
    {
        var takers = new[] { typeof(ApiKeyCache).Assembly, typeof(Program).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.DeclaringType != typeof(VerificationCache)) // its own lookups
            .Where(t => t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(ApiKeyCache) || p.ParameterType == typeof(VerificationCache))))
            .Select(t => t.Name).Order().ToList();

        Assert.Equal([nameof(ApiKeyArrivals), nameof(ApiKeyService), nameof(CacheInvalidation), nameof(VerificationService)], takers);
    }

    /// <summary>Routes and sign-in changes too: only their readers take them; what is saved keeps them right.</summary>
    [Fact]
    public void OnlyTheReadersOfRoutesAndSignIns_TakeThem()
    {
        var takers = new[] { typeof(ApiKeyCache).Assembly, typeof(Program).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetConstructors(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)
                .Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(GatewayRoutes) || p.ParameterType == typeof(SignInChanges))))
            .Select(t => t.Name).Order().ToList();

        Assert.Equal(["CacheInvalidation", "GatewayMiddleware", "RevalidatingIdentityStateProvider"], takers);
    }
}

public sealed class CacheFollowsTheDataOnPostgresTests() : CacheFollowsTheDataTests(DatabaseProvider.PostgreSql);
