using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Users;

public sealed class UserServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private UserService Users => _db.Get<UserService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static CreateUser NewUser(string email = "new@portal.test", params string[] roles) =>
        new() { Email = email, DisplayName = "New User", Password = "Str0ng!pass", Roles = roles.Length == 0 ? [Roles.Developer] : [.. roles] };

    [Fact]
    public async Task Bootstrap_EmptyDatabase_CreatesOneSuperAdmin()
    {
        var list = await Users.ListAsync(await _db.RootAsync(), new UserQuery());
        var admin = Assert.Single(list.Value.Items);
        Assert.Equal(TestDatabase.AdminEmail, admin.Email);
        Assert.Equal([Roles.SuperAdmin], admin.Roles);
    }

    [Fact]
    public async Task Create_AsSuperAdmin_CreatesUserWithRolesAndAudits()
    {
        var root = await _db.RootAsync();
        var result = await Users.CreateAsync(root, NewUser("ada@portal.test", Roles.Admin, Roles.ReadOnly));

        Assert.True(result.IsSuccess);
        Assert.Equal([Roles.Admin, Roles.ReadOnly], result.Value.Roles);
        Assert.Equal(UserStatus.Active, result.Value.Status);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.UserCreated && a.Target == "ada@portal.test" && a.ActorId == root.UserId));
    }

    [Theory]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Create_WithoutSuperAdminRole_IsForbidden(string role)
    {
        var (_, actor) = await _db.CreateUserAsync(role);
        var result = await Users.CreateAsync(actor, NewUser());
        Assert.IsType<ForbiddenError>(result.Error);
    }

    [Fact]
    public async Task Create_KeyWithoutAdminScope_IsForbiddenEvenForSuperAdmin()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.SuperAdmin, scopes: [Scopes.Read, Scopes.Write]);
        var result = await Users.CreateAsync(actor, NewUser());
        Assert.IsType<ForbiddenError>(result.Error);
    }

    [Fact]
    public async Task Create_DuplicateEmailInAnyCase_IsConflict()
    {
        var root = await _db.RootAsync();
        await Users.CreateAsync(root, NewUser("dup@portal.test"));
        var result = await Users.CreateAsync(root, NewUser("DUP@Portal.test"));
        Assert.IsType<DuplicateEmail>(result.Error);
    }

    [Fact]
    public async Task Create_WeakPassword_IsValidationErrorOnPasswordField()
    {
        var request = NewUser();
        request.Password = "short";
        var result = await Users.CreateAsync(await _db.RootAsync(), request);
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Contains("password", error.Errors.Keys);
    }

    [Fact]
    public async Task Create_MissingFieldsAndUnknownRole_ReportsEachField()
    {
        var request = new CreateUser { Email = "not-an-email", DisplayName = "", Password = "Str0ng!pass", Roles = ["wizard"] };
        var result = await Users.CreateAsync(await _db.RootAsync(), request);
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Contains("email", error.Errors.Keys);
        Assert.Contains("displayName", error.Errors.Keys);
        Assert.Contains("roles", error.Errors.Keys);
    }

    [Fact]
    public async Task Create_NoRoles_IsValidationError()
    {
        var request = NewUser();
        request.Roles = [];
        var result = await Users.CreateAsync(await _db.RootAsync(), request);
        Assert.Contains("roles", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task Create_NullOrEmptyRoleName_IsValidationErrorOnRoles_AndNoUserIsMade()
    {
        var root = await _db.RootAsync();
        foreach (var roles in new List<string>[] { [null!], [Roles.Developer, null!], [""] })
        {
            var request = NewUser("nullrole@portal.test");
            request.Roles = roles;
            var result = await Users.CreateAsync(root, request);
            Assert.Contains("roles", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
        }
        await using var db = await _db.OpenAsync();
        Assert.False(await db.Users.AnyAsync(u => u.Email == "nullrole@portal.test"));
    }

    [Fact]
    public async Task Update_NullOrEmptyRoleName_IsValidationErrorOnRoles_AndTheRolesStay()
    {
        var root = await _db.RootAsync();
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        foreach (var roles in new List<string>[] { [null!], [Roles.Developer, null!], [""], [] })
        {
            var result = await Users.UpdateAsync(root, target.Id, new UpdateUser { Roles = roles });
            Assert.Contains("roles", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
        }
        Assert.Equal([Roles.Developer], (await Users.GetAsync(root, target.Id)).Value.Roles);
    }

    [Fact]
    public async Task List_SearchesEmailAndName_FiltersRoleAndStatus_PagesOnServer()
    {
        var root = await _db.RootAsync();
        for (var i = 0; i < 12; i++)
            await Users.CreateAsync(root, NewUser($"dev{i:00}@portal.test", Roles.Developer));
        var ada = await Users.CreateAsync(root, new CreateUser { Email = "ada@portal.test", DisplayName = "Ada Lovelace", Password = "Str0ng!pass", Roles = [Roles.Admin] });
        await Users.UpdateAsync(root, ada.Value.Id, new UpdateUser { Status = UserStatus.Inactive });

        var page2 = await Users.ListAsync(root, new UserQuery { Role = Roles.Developer, Page = 2, PageSize = 5 });
        Assert.Equal(12, page2.Value.Total);
        Assert.Equal(["dev05@portal.test", "dev06@portal.test", "dev07@portal.test", "dev08@portal.test", "dev09@portal.test"],
            page2.Value.Items.Select(u => u.Email));

        Assert.Equal("ada@portal.test", Assert.Single((await Users.ListAsync(root, new UserQuery { Search = "LOVELACE" })).Value.Items).Email);
        Assert.Equal("ada@portal.test", Assert.Single((await Users.ListAsync(root, new UserQuery { Status = UserStatus.Inactive })).Value.Items).Email);
        Assert.Empty((await Users.ListAsync(root, new UserQuery { Role = Roles.ReadOnly })).Value.Items);
    }

    [Fact]
    public async Task List_UnknownRole_IsValidationErrorOnRole_LikeAnUnknownStatus()
    {
        var result = await Users.ListAsync(await _db.RootAsync(), new UserQuery { Role = "wizard" });
        Assert.Contains("role", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Theory]
    [InlineData("-lastLogin")]
    [InlineData("-lastLoginAt")]
    public async Task List_SortsByLastLogin_UnderTheShortAndTheFieldsOwnName(string sort)
    {
        var root = await _db.RootAsync();
        var early = (await Users.CreateAsync(root, NewUser("a-early@sort.test", Roles.Developer))).Value;
        var late = (await Users.CreateAsync(root, NewUser("b-late@sort.test", Roles.Developer))).Value;
        await using (var db = await _db.OpenAsync())
        {
            (await db.Users.FindAsync(early.Id))!.LastLoginAt = _db.Clock.GetUtcNow().AddDays(-2);
            (await db.Users.FindAsync(late.Id))!.LastLoginAt = _db.Clock.GetUtcNow().AddDays(-1);
            await db.SaveChangesAsync();
        }

        var sorted = await Users.ListAsync(root, new UserQuery { Search = "@sort.test", Sort = sort });

        Assert.Equal([late.Id, early.Id], sorted.Value.Items.Select(u => u.Id));
    }

    [Fact]
    public async Task List_PageSizeOverMaximum_IsValidationError()
    {
        var result = await Users.ListAsync(await _db.RootAsync(), new UserQuery { PageSize = 500 });
        Assert.IsType<ValidationError>(result.Error);
    }

    [Fact]
    public async Task List_AsDeveloper_IsForbidden()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ForbiddenError>((await Users.ListAsync(dev, new UserQuery())).Error);
    }

    [Fact]
    public async Task Update_AsAdmin_ChangesNameRolesStatus()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);

        var result = await Users.UpdateAsync(admin, target.Id,
            new UpdateUser { DisplayName = "Renamed", Roles = [Roles.ReadOnly], Status = UserStatus.Inactive });

        Assert.Equal("Renamed", result.Value.DisplayName);
        Assert.Equal([Roles.ReadOnly], result.Value.Roles);
        Assert.Equal(UserStatus.Inactive, result.Value.Status);
    }

    [Fact]
    public async Task Update_RoleOrStatusChange_RotatesSecurityStamp()
    {
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        string? Stamp(Portal.Core.Data.PortalDbContext db) => db.Users.Single(u => u.Id == target.Id).SecurityStamp;
        string? before;
        await using (var db = await _db.OpenAsync()) before = Stamp(db);

        await Users.UpdateAsync(await _db.RootAsync(), target.Id, new UpdateUser { Status = UserStatus.Inactive });

        await using (var db = await _db.OpenAsync()) Assert.NotEqual(before, Stamp(db));
    }

    [Fact]
    public async Task Update_AdminGrantingSuperAdmin_IsForbidden()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        var result = await Users.UpdateAsync(admin, target.Id, new UpdateUser { Roles = [Roles.SuperAdmin] });
        Assert.IsType<SuperAdminOnly>(result.Error);
    }

    [Fact]
    public async Task Update_AnAdminChangingASuperAdminsStatusOrRoles_IsForbidden_TheirNameIsNot()
    {
        var (superAdmin, _) = await _db.CreateUserAsync(Roles.SuperAdmin);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (_, adminKey) = await _db.CreateUserAsync(Roles.Admin, scopes: Scopes.All);

        foreach (var actor in new[] { admin, adminKey })
        {
            var deactivate = await Users.UpdateAsync(actor, superAdmin.Id, new UpdateUser { Status = UserStatus.Inactive });
            // Keeping super-admin but adding a role: not a super-admin role change, still beyond an admin.
            var addRole = await Users.UpdateAsync(actor, superAdmin.Id, new UpdateUser { Roles = [Roles.SuperAdmin, Roles.Developer] });
            Assert.Contains(superAdmin.Email, Assert.IsType<BeyondYourRoles>(deactivate.Error).Detail);
            Assert.IsType<BeyondYourRoles>(addRole.Error);
        }
        var stored = (await Users.GetAsync(await _db.RootAsync(), superAdmin.Id)).Value;
        Assert.Equal(UserStatus.Active, stored.Status);
        Assert.Equal([Roles.SuperAdmin], stored.Roles);
        // What changes no access stays an admin's to do: the name, or sending the values as they are.
        var renamed = await Users.UpdateAsync(admin, superAdmin.Id,
            new UpdateUser { DisplayName = "Renamed", Roles = [Roles.SuperAdmin], Status = UserStatus.Active });
        Assert.Equal("Renamed", renamed.Value.DisplayName);
        // And another admin's status is still theirs to change.
        var (otherAdmin, _) = await _db.CreateUserAsync(Roles.Admin);
        Assert.True((await Users.UpdateAsync(admin, otherAdmin.Id, new UpdateUser { Status = UserStatus.Inactive })).IsSuccess);
    }

    [Fact]
    public async Task Update_ReadOnly_IsForbidden()
    {
        var (_, auditor) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ForbiddenError>((await Users.UpdateAsync(auditor, target.Id, new UpdateUser { DisplayName = "x" })).Error);
    }

    [Fact]
    public async Task Update_LastActiveSuperAdmin_CannotBeDemotedOrDeactivated()
    {
        var root = await _db.RootAsync();
        Assert.IsType<LastSuperAdmin>((await Users.UpdateAsync(root, root.UserId, new UpdateUser { Roles = [Roles.Admin] })).Error);

        var (second, secondActor) = await _db.CreateUserAsync(Roles.SuperAdmin);
        Assert.True((await Users.UpdateAsync(secondActor, root.UserId, new UpdateUser { Status = UserStatus.Inactive })).IsSuccess);
        // Now the second super-admin is the last active one: neither demoted nor deactivated by anyone.
        Assert.IsType<LastSuperAdmin>((await Users.UpdateAsync(secondActor, second.Id, new UpdateUser { Roles = [Roles.Admin] })).Error);
        var (_, third) = await _db.CreateUserAsync(Roles.SuperAdmin);
        await Users.UpdateAsync(secondActor, third.UserId, new UpdateUser { Roles = [Roles.Admin] });
        var thirdAsAdmin = third with { Roles = [Roles.Admin] };
        Assert.IsType<SuperAdminOnly>((await Users.UpdateAsync(thirdAsAdmin, second.Id, new UpdateUser { Roles = [Roles.Admin] })).Error);
    }

    [Fact]
    public async Task Update_DeactivateYourself_IsForbidden()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var result = await Users.UpdateAsync(admin, admin.UserId, new UpdateUser { Status = UserStatus.Inactive });
        Assert.IsType<NotOnYourself>(result.Error);
    }

    [Fact]
    public async Task Update_UnknownUser_IsNotFound()
    {
        var result = await Users.UpdateAsync(await _db.RootAsync(), Guid.NewGuid(), new UpdateUser { DisplayName = "x" });
        Assert.IsType<NotFoundError>(result.Error);
    }

    [Fact]
    public async Task ResetPassword_AsSuperAdmin_ChangesHashAndClearsLockout()
    {
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        await using (var db = await _db.OpenAsync())
        {
            var user = await db.Users.SingleAsync(u => u.Id == target.Id);
            user.LockoutEnd = _db.Clock.GetUtcNow().AddMinutes(10);
            user.AccessFailedCount = 5;
            await db.SaveChangesAsync();
        }

        var result = await Users.ResetPasswordAsync(await _db.RootAsync(), target.Id, new ResetPassword { Password = "N3w!password" });

        Assert.True(result.IsSuccess);
        await using (var db = await _db.OpenAsync())
        {
            var user = await db.Users.SingleAsync(u => u.Id == target.Id);
            Assert.Null(user.LockoutEnd);
            Assert.Equal(Microsoft.AspNetCore.Identity.PasswordVerificationResult.Success,
                _db.Get<Microsoft.AspNetCore.Identity.IPasswordHasher<PortalUser>>().VerifyHashedPassword(user, user.PasswordHash!, "N3w!password"));
            Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.UserPasswordReset && a.TargetId == target.Id.ToString()));
        }
    }

    [Fact]
    public async Task ResetPassword_OwnAccount_IsForbidden()
    {
        var root = await _db.RootAsync();
        Assert.IsType<NotOnYourself>((await Users.ResetPasswordAsync(root, root.UserId, new ResetPassword { Password = "N3w!password" })).Error);
    }

    [Fact]
    public async Task ResetPassword_AsAdmin_IsForbidden()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ForbiddenError>((await Users.ResetPasswordAsync(admin, target.Id, new ResetPassword { Password = "N3w!password" })).Error);
    }

    [Fact]
    public async Task ResetPassword_WeakPassword_IsValidationError()
    {
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        var result = await Users.ResetPasswordAsync(await _db.RootAsync(), target.Id, new ResetPassword { Password = "abc" });
        Assert.Contains("password", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task Delete_AsSuperAdmin_RemovesUserAndAudits()
    {
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.True((await Users.DeleteAsync(await _db.RootAsync(), target.Id)).IsSuccess);
        Assert.IsType<NotFoundError>((await Users.GetAsync(await _db.RootAsync(), target.Id)).Error);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.UserDeleted && a.TargetId == target.Id.ToString()));
    }

    [Fact]
    public async Task Delete_Yourself_IsForbidden()
    {
        var root = await _db.RootAsync();
        Assert.IsType<NotOnYourself>((await Users.DeleteAsync(root, root.UserId)).Error);
    }

    [Fact]
    public async Task Delete_AsAdmin_IsForbidden()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ForbiddenError>((await Users.DeleteAsync(admin, target.Id)).Error);
    }

    [Fact]
    public async Task Delete_LastActiveSuperAdmin_IsConflict()
    {
        var root = await _db.RootAsync();
        var (_, other) = await _db.CreateUserAsync(Roles.SuperAdmin);
        await Users.UpdateAsync(root, other.UserId, new UpdateUser { Status = UserStatus.Inactive });
        // 'other' is inactive, so root is the last active super-admin; another super-admin acting cannot delete it.
        var (_, third) = await _db.CreateUserAsync(Roles.SuperAdmin);
        await Users.UpdateAsync(root, third.UserId, new UpdateUser { Status = UserStatus.Inactive });
        var acting = third with { };
        Assert.IsType<LastSuperAdmin>((await Users.DeleteAsync(acting, root.UserId)).Error);
    }

    [Fact]
    public async Task RecordSignIn_Success_SetsLastLoginAndAuditsWithIp()
    {
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);
        await Users.RecordSignInAsync(target.Email, SignInOutcome.Succeeded, "10.0.0.7");
        await Users.RecordSignInAsync("nobody@portal.test", SignInOutcome.Failed, "10.0.0.8");

        var user = (await Users.GetAsync(await _db.RootAsync(), target.Id)).Value;
        Assert.Equal(_db.Clock.GetUtcNow(), user.LastLoginAt);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SignInSucceeded && a.ActorId == target.Id && a.IpAddress == "10.0.0.7"));
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SignInFailed && a.ActorEmail == "nobody@portal.test" && a.IpAddress == "10.0.0.8"));
    }
}
