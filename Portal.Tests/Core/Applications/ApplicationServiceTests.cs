using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Applications;

public sealed class ApplicationServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ApplicationService Apps => _db.Get<ApplicationService>();
    private ApiKeyService Keys => _db.Get<ApiKeyService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(services =>
        services.Configure<PortalOptions>(o =>
        {
            o.Applications.MaxPerAccount = 3;
            o.Applications.MaxActiveKeys = 2;
        }));

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<Actor> DeveloperAsync() => (await _db.CreateUserAsync(Roles.Developer)).Actor;

    private async Task<ApplicationCreated> CreateAsync(Actor actor, string name = "Mobile iOS App", Guid? accountId = null)
    {
        var result = await Apps.CreateAsync(actor, new CreateApplication { Name = name, Description = "API access for iOS", AccountId = accountId });
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return result.Value;
    }

    [Fact]
    public async Task MyActiveKeys_AreTheCallersApplicationsActiveKeys_ByApplicationName_NewestFirst()
    {
        var dev = await DeveloperAsync();
        var web = await CreateAsync(dev, "Web Shop");
        var ios = await CreateAsync(dev, "Mobile iOS App");
        _db.Clock.Advance(TimeSpan.FromMinutes(1));
        var newer = (await Apps.GenerateKeyAsync(dev, ios.Application.Id, new GenerateApplicationKey())).Value;
        Assert.True((await Apps.RevokeKeyAsync(dev, web.Application.Id, web.Key.Id)).IsSuccess);
        await CreateAsync(await DeveloperAsync(), "Someone else's app");

        var mine = (await Apps.ListMyActiveKeysAsync(dev)).Value;

        Assert.Equal([("Mobile iOS App", newer.Id), ("Mobile iOS App", ios.Key.Id)], mine.Select(k => (k.ApplicationName, k.Key.Id)));
        Assert.All(mine, k => Assert.True(k.Key.Enabled));
        // An admin's choice is their own applications' keys too, not every account's.
        Assert.Empty((await Apps.ListMyActiveKeysAsync(await _db.RootAsync())).Value);
    }

    [Fact]
    public async Task Create_MakesTheApplicationAndItsFirstKey_WhichAuthenticatesAsTheApplication()
    {
        var dev = await DeveloperAsync();
        var created = await CreateAsync(dev);

        Assert.Equal("Mobile iOS App", created.Application.Name);
        Assert.NotEqual(Guid.Empty, created.Application.ReferenceId);
        Assert.Equal(1, created.Application.ActiveKeys);
        Assert.True(created.Key.Enabled);
        Assert.DoesNotContain(created.Key.Key, created.Key.ToString());
        var check = await Keys.AuthenticateAsync(created.Key.Key);
        Assert.Equal(KeyCheckCode.Valid, check.Code);
        Assert.Equal(created.Application.Id, check.Identity!.ApplicationId);
        Assert.Empty(check.Identity.Roles);
        Assert.Empty(check.Identity.Scopes);
        await using var db = await _db.OpenAsync();
        var key = await db.ApiKeys.SingleAsync(k => k.Id == created.Key.Id);
        Assert.Null(key.OwnerUserId);
        Assert.Equal("", key.Scopes);
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.ApplicationCreated && a.TargetId == created.Application.Id.ToString()));
    }

    [Fact]
    public async Task AnotherAccountsApplication_IsNotFound_ForEveryOperation_NeverForbidden()
    {
        var owner = await DeveloperAsync();
        var stranger = await DeveloperAsync();
        var app = (await CreateAsync(owner)).Application;
        var keyId = (await Apps.ListKeysAsync(owner, app.Id, new PageQuery())).Value.Items.Single().Id;

        Assert.IsType<NotFoundError>((await Apps.GetAsync(stranger, app.Id)).Error);
        Assert.IsType<NotFoundError>((await Apps.UpdateAsync(stranger, app.Id, new UpdateApplication { Name = "mine now" })).Error);
        Assert.IsType<NotFoundError>((await Apps.DeleteAsync(stranger, app.Id)).Error);
        Assert.IsType<NotFoundError>((await Apps.ListKeysAsync(stranger, app.Id, new PageQuery())).Error);
        Assert.IsType<NotFoundError>((await Apps.GenerateKeyAsync(stranger, app.Id, new GenerateApplicationKey())).Error);
        Assert.IsType<NotFoundError>((await Apps.RevokeKeyAsync(stranger, app.Id, keyId)).Error);
        Assert.Empty((await Apps.ListAsync(stranger, new ApplicationQuery())).Value.Items);
        Assert.Equal(app.Id, (await Apps.GetAsync(owner, app.Id)).Value.Id);
    }

    [Fact]
    public async Task Admin_SeesAndManagesEveryAccountsApplication_ReadOnlySeesButCannotChange()
    {
        var dev = await DeveloperAsync();
        var app = (await CreateAsync(dev)).Application;
        var admin = (await _db.CreateUserAsync(Roles.Admin)).Actor;
        var readOnly = (await _db.CreateUserAsync(Roles.ReadOnly)).Actor;

        Assert.Contains((await Apps.ListAsync(admin, new ApplicationQuery())).Value.Items, a => a.Id == app.Id);
        Assert.Equal(app.Id, (await Apps.GetAsync(readOnly, app.Id)).Value.Id);
        Assert.IsType<ForbiddenError>((await Apps.DeleteAsync(readOnly, app.Id)).Error);
        Assert.True((await Apps.GenerateKeyAsync(admin, app.Id, new GenerateApplicationKey())).IsSuccess);
        Assert.True((await Apps.UpdateAsync(admin, app.Id, new UpdateApplication { Description = "checked by admin" })).IsSuccess);
    }

    [Fact]
    public async Task List_SearchesByNameReferenceIdAndAccountName_AndFiltersByAccount()
    {
        var dev = await DeveloperAsync();
        var ios = (await CreateAsync(dev, "Mobile iOS App")).Application;
        var web = (await CreateAsync(dev, "Web shop")).Application;
        var admin = (await _db.CreateUserAsync(Roles.Admin)).Actor;

        Assert.Equal([ios.Id], (await Apps.ListAsync(admin, new ApplicationQuery { Search = "ios" })).Value.Items.Select(a => a.Id));
        Assert.Equal([web.Id], (await Apps.ListAsync(admin, new ApplicationQuery { Search = web.ReferenceId.ToString() })).Value.Items.Select(a => a.Id));
        var byAccount = await Apps.ListAsync(admin, new ApplicationQuery { Search = ios.AccountName.ToUpperInvariant(), AccountId = ios.AccountId });
        Assert.Equal(2, byAccount.Value.Total);
        Assert.Empty((await Apps.ListAsync(admin, new ApplicationQuery { AccountId = Guid.NewGuid() })).Value.Items);
    }

    [Fact]
    public async Task Name_IsUniqueWithinTheAccount_ButAnotherAccountMayUseIt()
    {
        var dev = await DeveloperAsync();
        var other = await DeveloperAsync();
        await CreateAsync(dev, "Same name");

        var duplicate = await Apps.CreateAsync(dev, new CreateApplication { Name = " Same name " });
        Assert.IsType<DuplicateApplicationName>(duplicate.Error);
        Assert.True((await Apps.CreateAsync(other, new CreateApplication { Name = "Same name" })).IsSuccess);

        var second = await CreateAsync(dev, "Second");
        Assert.IsType<DuplicateApplicationName>((await Apps.UpdateAsync(dev, second.Application.Id, new UpdateApplication { Name = "Same name" })).Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Create_WithoutName_IsValidationError(string name)
    {
        var dev = await DeveloperAsync();
        var result = await Apps.CreateAsync(dev, new CreateApplication { Name = name });
        Assert.Contains("name", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task Create_NameLongerThan255_IsValidationError()
    {
        var dev = await DeveloperAsync();
        var result = await Apps.CreateAsync(dev, new CreateApplication { Name = new string('a', 256) });
        Assert.Contains("name", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task Create_InSeveralAccounts_NeedsTheAccountId_AndOnlyOneOfTheirOwn()
    {
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);
        var root = await _db.RootAsync();
        var team = (await _db.Get<AccountService>().CreateAsync(root, new CreateAccount { Name = "Team Rocket", MemberIds = [user.Id] })).Value;
        var foreign = (await _db.Get<AccountService>().CreateAsync(root, new CreateAccount { Name = "Not yours" })).Value;

        Assert.Contains("accountId", Assert.IsType<ValidationError>((await Apps.CreateAsync(dev, new CreateApplication { Name = "x" })).Error).Errors.Keys);
        Assert.Contains("accountId", Assert.IsType<ValidationError>(
            (await Apps.CreateAsync(dev, new CreateApplication { Name = "x", AccountId = foreign.Id })).Error).Errors.Keys);
        var created = await CreateAsync(dev, "x", team.Id);
        Assert.Equal("Team Rocket", created.Application.AccountName);
    }

    [Fact]
    public async Task Create_BeyondTheApplicationsPerAccountLimit_IsConflict_WithAClearMessage()
    {
        var dev = await DeveloperAsync();
        for (var i = 0; i < 3; i++) await CreateAsync(dev, $"app {i}");
        var result = await Apps.CreateAsync(dev, new CreateApplication { Name = "one too many" });
        var error = Assert.IsType<ApplicationLimitReached>(result.Error);
        Assert.Contains("3 applications", error.Detail);
    }

    [Fact]
    public async Task GenerateKey_BeyondTheActiveKeyLimit_IsConflict_UntilOneIsRevoked()
    {
        var dev = await DeveloperAsync();
        var created = await CreateAsync(dev);
        var second = await Apps.GenerateKeyAsync(dev, created.Application.Id, new GenerateApplicationKey());
        Assert.True(second.IsSuccess);

        var third = await Apps.GenerateKeyAsync(dev, created.Application.Id, new GenerateApplicationKey());
        Assert.Contains("2 active keys", Assert.IsType<ActiveKeyLimitReached>(third.Error).Detail);

        Assert.True((await Apps.RevokeKeyAsync(dev, created.Application.Id, created.Key.Id)).IsSuccess);
        Assert.True((await Apps.GenerateKeyAsync(dev, created.Application.Id, new GenerateApplicationKey())).IsSuccess);
    }

    [Fact]
    public async Task RevokeKey_IsIdempotent_AndTheKeyStopsWorking()
    {
        var dev = await DeveloperAsync();
        var created = await CreateAsync(dev);
        Assert.Equal(KeyCheckCode.Valid, (await Keys.AuthenticateAsync(created.Key.Key)).Code);

        Assert.True((await Apps.RevokeKeyAsync(dev, created.Application.Id, created.Key.Id)).IsSuccess);
        Assert.True((await Apps.RevokeKeyAsync(dev, created.Application.Id, created.Key.Id)).IsSuccess);

        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(created.Key.Key)).Code);
        var key = (await Apps.ListKeysAsync(dev, created.Application.Id, new PageQuery())).Value.Items.Single();
        Assert.False(key.Enabled);
        Assert.Equal(ApiKeyStatus.Revoked, key.Status);
        Assert.IsType<NotFoundError>((await Apps.RevokeKeyAsync(dev, created.Application.Id, Guid.NewGuid())).Error);
    }

    [Fact]
    public async Task Delete_RevokesEveryKey_RefusedAtOnceEvenIfCached_AndRemovesTheApplication()
    {
        var dev = await DeveloperAsync();
        var created = await CreateAsync(dev);
        var second = (await Apps.GenerateKeyAsync(dev, created.Application.Id, new GenerateApplicationKey())).Value;
        // Warm the cache: deletion must not leave a cached key working.
        Assert.True((await Keys.AuthenticateAsync(created.Key.Key)).IsValid);
        Assert.True((await Keys.AuthenticateAsync(second.Key)).IsValid);

        Assert.True((await Apps.DeleteAsync(dev, created.Application.Id)).IsSuccess);

        Assert.False((await Keys.AuthenticateAsync(created.Key.Key)).IsValid);
        Assert.False((await Keys.AuthenticateAsync(second.Key)).IsValid);
        Assert.IsType<NotFoundError>((await Apps.GetAsync(dev, created.Application.Id)).Error);
        await using var db = await _db.OpenAsync();
        Assert.All(await db.ApiKeys.Where(k => k.ApplicationId == created.Application.Id).ToListAsync(), k => Assert.NotNull(k.RevokedAt));
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.ApplicationDeleted && a.TargetId == created.Application.Id.ToString()));
    }

    [Fact]
    public async Task ApplicationKeyActor_ReadsItsOwnApplicationAndKeys_AndNothingElse()
    {
        var dev = await DeveloperAsync();
        var mine = await CreateAsync(dev, "mine");
        var other = await CreateAsync(dev, "other");
        var appActor = new Actor(Guid.Empty, "application", [], [], KeyId: mine.Key.Id) { ApplicationId = mine.Application.Id };

        Assert.Equal(mine.Application.Id, (await Apps.GetAsync(appActor, mine.Application.Id)).Value.Id);
        Assert.True((await Apps.ListKeysAsync(appActor, mine.Application.Id, new PageQuery())).IsSuccess);
        Assert.IsType<NotFoundError>((await Apps.GetAsync(appActor, other.Application.Id)).Error);
        Assert.IsType<ForbiddenError>((await Apps.ListAsync(appActor, new ApplicationQuery())).Error);
        Assert.IsType<ForbiddenError>((await Apps.GenerateKeyAsync(appActor, mine.Application.Id, new GenerateApplicationKey())).Error);
        Assert.IsType<ForbiddenError>((await Apps.DeleteAsync(appActor, mine.Application.Id)).Error);
        // API.md: GET /me is for "any key": an application key may ask who it is (and nothing more comes with that).
        Assert.Equal([Permission.Self, Permission.ApplicationsRead], appActor.Permissions.Order());
    }

    [Fact]
    public async Task PersonalKeys_NeverListApplicationKeys()
    {
        var dev = await DeveloperAsync();
        await CreateAsync(dev);
        var admin = (await _db.CreateUserAsync(Roles.Admin)).Actor;
        Assert.DoesNotContain((await Keys.ListAsync(admin, new ApiKeyQuery { PageSize = 200 })).Value.Items, k => k.ApplicationId is not null);
    }

    [Fact]
    public async Task List_Mine_ShowsOnlyTheCallersAccountsApplications_EvenForAnAdmin()
    {
        var dev = await DeveloperAsync();
        var other = await DeveloperAsync();
        var own = await CreateAsync(dev, "Own app");
        await CreateAsync(other, "Other app");
        var admin = (await _db.CreateUserAsync(Roles.Admin)).Actor;

        var mine = (await Apps.ListAsync(dev, new ApplicationQuery { Mine = true })).Value.Items;
        var adminMine = (await Apps.ListAsync(admin, new ApplicationQuery { Mine = true })).Value.Items;
        var adminAll = (await Apps.ListAsync(admin, new ApplicationQuery())).Value.Items;

        Assert.Equal([own.Application.Id], mine.Select(a => a.Id));
        Assert.DoesNotContain(adminMine, a => a.Name is "Own app" or "Other app");
        Assert.Contains(adminAll, a => a.Name == "Other app");
    }
}
