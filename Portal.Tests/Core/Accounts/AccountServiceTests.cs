using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Accounts;

public sealed class AccountServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AccountService Accounts => _db.Get<AccountService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task CreatingADeveloper_GivesThemAPersonalAccount_NamedAfterThem()
    {
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);

        var mine = (await Accounts.ListMineAsync(dev)).Value;
        var account = Assert.Single(mine);
        Assert.Equal(AccountKind.Person, account.Kind);
        Assert.Equal(user.DisplayName, account.Name);
        Assert.Equal(1, account.MemberCount);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.AccountCreated && a.TargetId == account.Id.ToString()));
    }

    [Fact]
    public async Task CreatingAnAdmin_GivesNoAccount_BecomingADeveloperLaterDoes()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.ReadOnly);
        await using (var db = await _db.OpenAsync())
            Assert.False(await db.AccountMembers.AnyAsync(m => m.UserId == user.Id));

        var updated = await _db.Get<UserService>().UpdateAsync(await _db.RootAsync(), user.Id, new UpdateUser { Roles = [Roles.Developer] });
        Assert.True(updated.IsSuccess, updated.Error?.Detail);
        await using (var db = await _db.OpenAsync())
            Assert.Equal(1, await db.AccountMembers.CountAsync(m => m.UserId == user.Id));
    }

    [Fact]
    public async Task EnsurePersonalAccount_IsIdempotent()
    {
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);
        Assert.True((await Accounts.EnsurePersonalAccountAsync(user.Id)).IsSuccess);
        Assert.Single((await Accounts.ListMineAsync(dev)).Value);
        Assert.IsType<NotFoundError>((await Accounts.EnsurePersonalAccountAsync(Guid.NewGuid())).Error);
    }

    [Fact]
    public async Task Admin_CreatesTeamAccounts_AddsAndRemovesMembers_WhoThenSeeItsApplications()
    {
        var root = await _db.RootAsync();
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);
        var team = (await Accounts.CreateAsync(root, new CreateAccount { Name = "Payments team" })).Value;
        var app = (await _db.Get<ApplicationService>().CreateAsync(root, new CreateApplication { Name = "Team app", AccountId = team.Id })).Value;
        Assert.IsType<NotFoundError>((await _db.Get<ApplicationService>().GetAsync(dev, app.Application.Id)).Error);

        Assert.True((await Accounts.AddMemberAsync(root, team.Id, user.Id)).IsSuccess);
        Assert.True((await Accounts.AddMemberAsync(root, team.Id, user.Id)).IsSuccess);
        Assert.Equal(app.Application.Id, (await _db.Get<ApplicationService>().GetAsync(dev, app.Application.Id)).Value.Id);
        Assert.Equal(2, (await Accounts.ListMineAsync(dev)).Value.Count);

        Assert.True((await Accounts.RemoveMemberAsync(root, team.Id, user.Id)).IsSuccess);
        Assert.IsType<NotFoundError>((await _db.Get<ApplicationService>().GetAsync(dev, app.Application.Id)).Error);
        Assert.IsType<NotFoundError>((await Accounts.RemoveMemberAsync(root, team.Id, user.Id)).Error);
    }

    [Fact]
    public async Task Create_WithNullMemberIds_MakesAnAccountWithoutMembers()
    {
        // "memberIds": null in a JSON body: the same as leaving it out, not an exception.
        var result = await Accounts.CreateAsync(await _db.RootAsync(), new CreateAccount { Name = "No members", MemberIds = null! });

        Assert.True(result.IsSuccess, result.Error?.Detail);
        Assert.Equal(0, result.Value.MemberCount);
    }

    [Fact]
    public async Task Get_ShowsMembers_ToAdminsAndMembers_AnotherDeveloperGetsNotFound()
    {
        var root = await _db.RootAsync();
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);
        var (_, stranger) = await _db.CreateUserAsync(Roles.Developer);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var team = (await Accounts.CreateAsync(root, new CreateAccount { Name = "Team", MemberIds = [user.Id] })).Value;

        var detail = (await Accounts.GetAsync(dev, team.Id)).Value;
        Assert.Equal(user.Id, Assert.Single(detail.Members).UserId);
        Assert.True((await Accounts.GetAsync(readOnly, team.Id)).IsSuccess);
        Assert.IsType<NotFoundError>((await Accounts.GetAsync(stranger, team.Id)).Error);
        Assert.IsType<NotFoundError>((await Accounts.GetAsync(root, Guid.NewGuid())).Error);
    }

    [Fact]
    public async Task RemovingADevelopersOnlyAccount_IsConflict()
    {
        var root = await _db.RootAsync();
        var (user, dev) = await _db.CreateUserAsync(Roles.Developer);
        var personal = (await Accounts.ListMineAsync(dev)).Value.Single();
        Assert.IsType<LastAccountOfDeveloper>((await Accounts.RemoveMemberAsync(root, personal.Id, user.Id)).Error);
    }

    [Fact]
    public async Task OnlyAdminsManage_ReadOnlyLists_DevelopersNeither()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);

        Assert.IsType<ForbiddenError>((await Accounts.ListAsync(dev, new AccountQuery())).Error);
        Assert.IsType<ForbiddenError>((await Accounts.CreateAsync(readOnly, new CreateAccount { Name = "x" })).Error);
        Assert.True((await Accounts.ListAsync(readOnly, new AccountQuery())).IsSuccess);
        var created = await Accounts.CreateAsync(admin, new CreateAccount { Name = "Searchable team", Kind = AccountKind.Team });
        Assert.True(created.IsSuccess);
        var found = (await Accounts.ListAsync(readOnly, new AccountQuery { Search = "searchable" })).Value;
        Assert.Equal(created.Value.Id, Assert.Single(found.Items).Id);
        Assert.IsType<ValidationError>((await Accounts.CreateAsync(admin, new CreateAccount { Name = "" })).Error);
        Assert.IsType<ValidationError>((await Accounts.CreateAsync(admin, new CreateAccount { Name = "x", MemberIds = [Guid.NewGuid()] })).Error);
    }

    [Fact]
    public async Task Suspending_RefusesTheAccountsApplicationKeys_OnTheNextCall_ReactivatingRestoresThem()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var created = (await _db.Get<ApplicationService>().CreateAsync(dev, new CreateApplication { Name = "Web Shop" })).Value;
        var keys = _db.Get<ApiKeyService>();
        var root = await _db.RootAsync();
        Assert.Equal(KeyCheckCode.Valid, (await keys.AuthenticateAsync(created.Key.Key)).Code);
        // Cached now: the next check would not ask the database.
        Assert.Equal(KeyCheckCode.Valid, (await keys.AuthenticateAsync(created.Key.Key)).Code);
        var verification = _db.Get<Portal.Core.Features.Verification.VerificationCache>();
        var generation = verification.Generation;

        var suspended = (await Accounts.SetStatusAsync(root, created.Application.AccountId, AccountStatus.Suspended)).Value;

        Assert.Equal(AccountStatus.Suspended, suspended.Status);
        Assert.True(verification.Generation > generation);
        Assert.Equal(KeyCheckCode.Disabled, (await keys.AuthenticateAsync(created.Key.Key)).Code);
        Assert.Equal(AccountStatus.Suspended, (await Accounts.GetAsync(root, created.Application.AccountId)).Value.Status);
        Assert.Equal(AccountStatus.Suspended, (await Accounts.ListAsync(root, new AccountQuery())).Value.Items.Single(a => a.Id == suspended.Id).Status);
        // The members themselves still sign in and see their data; only the application keys stop.
        Assert.Equal(created.Application.Id, (await _db.Get<ApplicationService>().GetAsync(dev, created.Application.Id)).Value.Id);

        Assert.Equal(AccountStatus.Active, (await Accounts.SetStatusAsync(root, suspended.Id, AccountStatus.Active)).Value.Status);
        Assert.Equal(KeyCheckCode.Valid, (await keys.AuthenticateAsync(created.Key.Key)).Code);
        await using var db = await _db.OpenAsync();
        var entries = await db.Audit.Where(a => a.Action == AuditActions.AccountStatusChanged).Select(a => a.Details).ToListAsync();
        Assert.Equal(["Active → Suspended", "Suspended → Active"], entries);
    }

    [Fact]
    public async Task SetStatus_IsForAccountManagers_IdempotentAndNotFoundForUnknownAccounts()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var account = (await Accounts.ListMineAsync(dev)).Value.Single();

        Assert.IsType<ForbiddenError>((await Accounts.SetStatusAsync(dev, account.Id, AccountStatus.Suspended)).Error);
        Assert.IsType<ForbiddenError>((await Accounts.SetStatusAsync(readOnly, account.Id, AccountStatus.Suspended)).Error);
        Assert.IsType<NotFoundError>((await Accounts.SetStatusAsync(admin, Guid.NewGuid(), AccountStatus.Suspended)).Error);
        Assert.IsType<ValidationError>((await Accounts.SetStatusAsync(admin, account.Id, (AccountStatus)7)).Error);
        Assert.Equal(AccountStatus.Active, (await Accounts.SetStatusAsync(admin, account.Id, AccountStatus.Active)).Value.Status);
        Assert.Equal(AccountStatus.Suspended, (await Accounts.SetStatusAsync(admin, account.Id, AccountStatus.Suspended)).Value.Status);
        Assert.Equal(AccountStatus.Suspended, (await Accounts.SetStatusAsync(admin, account.Id, AccountStatus.Suspended)).Value.Status);
        await using var db = await _db.OpenAsync();
        Assert.Equal(1, await db.Audit.CountAsync(a => a.Action == AuditActions.AccountStatusChanged));
    }
}

public sealed class SignUpServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task SignUp_CreatesDeveloper_PersonalAccount_FirstApplication_AndAWorkingKey()
    {
        var result = await _db.Get<SignUpService>().SignUpAsync("new.dev@example.com", "New Dev", "Passw0rd!long");
        Assert.True(result.IsSuccess, result.Error?.Detail);
        var signedUp = result.Value;

        Assert.Equal([Roles.Developer], signedUp.User.Roles);
        Assert.Equal(SignUpService.FirstApplicationName, signedUp.FirstApplication.Application.Name);
        Assert.Equal("New Dev", signedUp.FirstApplication.Application.AccountName);
        var check = await _db.Get<ApiKeyService>().AuthenticateAsync(signedUp.FirstApplication.Key.Key);
        Assert.Equal(signedUp.FirstApplication.Application.Id, check.Identity?.ApplicationId);
        var dev = new Actor(signedUp.User.Id, signedUp.User.Email, signedUp.User.Roles);
        Assert.Single((await _db.Get<ApplicationService>().ListAsync(dev, new ApplicationQuery())).Value.Items);
        Assert.DoesNotContain(signedUp.FirstApplication.Key.Key, signedUp.ToString());
    }

    [Fact]
    public async Task SignUp_WithATakenEmail_GivesAGenericError_ThatDoesNotMentionTheEmail()
    {
        await _db.CreateUserAsync(Roles.Admin, "taken@example.com");
        var result = await _db.Get<SignUpService>().SignUpAsync("Taken@Example.com", "Someone", "Passw0rd!long");
        var error = Assert.IsType<SignUpRefused>(result.Error);
        Assert.Equal("Could not sign up with these details.", error.Detail);
        Assert.DoesNotContain("taken", error.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignUp_WithAWeakPassword_IsValidationError()
    {
        var result = await _db.Get<SignUpService>().SignUpAsync("weak@example.com", "Weak", "x");
        Assert.Contains("password", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task SignUp_TurnedOff_IsRefused()
    {
        await using var db = await TestDatabase.CreateAsync(s => s.Configure<PortalOptions>(o => o.SignUp.Enabled = false));
        var result = await db.Get<SignUpService>().SignUpAsync("off@example.com", "Off", "Passw0rd!long");
        Assert.IsType<SignUpDisabled>(result.Error);
    }
}

public sealed class PersonalAccountBackfillTests
{
    [Fact]
    public async Task Migration_GivesDevelopersFromBeforeAccountsAPersonalAccount_OnlyThem_Once()
    {
        await using var database = await TestDatabase.CreateAsync();
        var (developer, devActor) = await database.CreateUserAsync(Roles.Developer);
        var (admin, _) = await database.CreateUserAsync(Roles.Admin);
        await using (var db = await database.OpenAsync())
        {
            // As if the developer had been created before accounts existed.
            await db.AccountMembers.Where(m => m.UserId == developer.Id).ExecuteDeleteAsync();
            await db.Accounts.ExecuteDeleteAsync();
            await db.Database.ExecuteSqlRawAsync(Portal.Core.Migrations.Applications.BackfillPersonalAccountsSql);
            await db.Database.ExecuteSqlRawAsync(Portal.Core.Migrations.Applications.BackfillPersonalAccountsSql);
        }

        var mine = (await database.Get<AccountService>().ListMineAsync(devActor)).Value;
        Assert.Equal(developer.DisplayName, Assert.Single(mine).Name);
        Assert.Equal(AccountKind.Person, mine[0].Kind);
        await using var check = await database.OpenAsync();
        Assert.False(await check.AccountMembers.AnyAsync(m => m.UserId == admin.Id));
        Assert.True((await database.Get<ApplicationService>().CreateAsync(devActor, new CreateApplication { Name = "after the backfill" })).IsSuccess);
    }
}
