using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Profile;

public sealed class ProfileServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ProfileService Profiles => _db.Get<ProfileService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(SelfServiceSetup.With());

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Get_SignedInUser_AnswersTheirOwnProfile()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var profile = await Profiles.GetAsync(actor);
        Assert.Equal(user.Email, profile.Value.Email);
        Assert.Equal(user.DisplayName, profile.Value.DisplayName);
    }

    [Fact]
    public async Task Get_ApplicationKey_IsForbidden()
    {
        var app = new Actor(Guid.Empty, "app", [], [], null, Guid.NewGuid()) { ApplicationId = Guid.NewGuid() };
        Assert.IsType<ForbiddenError>((await Profiles.GetAsync(app)).Error);
        Assert.IsType<ForbiddenError>((await Profiles.UpdateAsync(app, new UpdateProfile { DisplayName = "x" })).Error);
    }

    [Fact]
    public async Task Update_DisplayName_IsTrimmedSavedAndAudited()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.ReadOnly);
        var result = await Profiles.UpdateAsync(actor, new UpdateProfile { DisplayName = "  Ada Lovelace " });
        Assert.Equal("Ada Lovelace", result.Value.DisplayName);
        await using var db = await _db.OpenAsync();
        Assert.Equal("Ada Lovelace", (await db.Users.SingleAsync(u => u.Id == user.Id)).DisplayName);
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.ProfileUpdated && a.ActorId == user.Id));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Update_BlankDisplayName_IsAValidationErrorOnTheField(string name)
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var error = Assert.IsType<ValidationError>((await Profiles.UpdateAsync(actor, new UpdateProfile { DisplayName = name })).Error);
        Assert.True(error.Errors.ContainsKey("displayName"));
    }

    [Fact]
    public async Task ChangePassword_WrongCurrent_IsAnErrorAndChangesNothing()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var stamp = await StampAsync(user.Id);
        var result = await Profiles.ChangePasswordAsync(actor, new ChangePassword { CurrentPassword = "wrong-one", NewPassword = "N3w-password!", ConfirmPassword = "N3w-password!" });
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.True(error.Errors.ContainsKey("currentPassword"));
        Assert.Equal(stamp, await StampAsync(user.Id));
    }

    [Fact]
    public async Task ChangePassword_TooShort_IsAPolicyErrorOnTheNewPassword()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var result = await Profiles.ChangePasswordAsync(actor, new ChangePassword { CurrentPassword = "Passw0rd!", NewPassword = "short", ConfirmPassword = "short" });
        Assert.True(Assert.IsType<ValidationError>(result.Error).Errors.ContainsKey("newPassword"));
    }

    [Fact]
    public async Task ChangePassword_Right_SetsTheNewPasswordEndsSessionsAndAudits()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var stamp = await StampAsync(user.Id);
        var result = await Profiles.ChangePasswordAsync(actor, new ChangePassword { CurrentPassword = "Passw0rd!", NewPassword = "N3w-password!", ConfirmPassword = "N3w-password!" });
        Assert.True(result.IsSuccess);

        // A new stamp: every cookie issued before fails its next check; SignInChanges makes that check due at once.
        Assert.NotEqual(stamp, await StampAsync(user.Id));
        Assert.True(_db.Get<SignInChanges>().ChangedSince(user.Id, _db.Clock.GetUtcNow().AddSeconds(-30)));
        await using var db = await _db.OpenAsync();
        var stored = await db.Users.SingleAsync(u => u.Id == user.Id);
        var hasher = _db.Get<IPasswordHasher<PortalUser>>();
        Assert.NotEqual(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(stored, stored.PasswordHash!, "N3w-password!"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(stored, stored.PasswordHash!, "Passw0rd!"));
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.PasswordChanged && a.ActorId == user.Id);
        Assert.DoesNotContain("N3w-password!", audit.Details ?? "");
    }

    [Fact]
    public async Task ChangePassword_ThroughAKey_IsForbidden()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer, scopes: [Scopes.Write]);
        var keyActor = actor with { KeyId = Guid.NewGuid() };
        var result = await Profiles.ChangePasswordAsync(keyActor, new ChangePassword { CurrentPassword = "Passw0rd!", NewPassword = "N3w-password!", ConfirmPassword = "N3w-password!" });
        Assert.IsType<ForbiddenError>(result.Error);
    }

    [Fact]
    public async Task SignOutOtherSessions_ChangesTheStampAndAudits()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Admin);
        var stamp = await StampAsync(user.Id);
        Assert.True((await Profiles.SignOutOtherSessionsAsync(actor)).IsSuccess);
        Assert.NotEqual(stamp, await StampAsync(user.Id));
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.SessionsEnded && a.ActorId == user.Id));
    }

    [Fact]
    public async Task RecentSignIns_ListsOnlyTheUsersSuccessfulSignIns_NewestFirst_WithAddressAndBrowser()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var (other, _) = await _db.CreateUserAsync(Roles.Developer);
        var users = _db.Get<UserService>();
        await users.RecordSignInAsync(user.Email, SignInOutcome.Succeeded, "10.0.0.1");
        _db.Clock.Advance(TimeSpan.FromMinutes(5));
        await users.RecordSignInAsync(user.Email, SignInOutcome.Failed, "10.0.0.9");
        await users.RecordSignInAsync(other.Email, SignInOutcome.Succeeded, "10.0.0.3");
        await using (var db = await _db.OpenAsync())
        {
            // As the web host records it: the browser in the details.
            db.Audit.Add(AuditEntry.For(actor with { IpAddress = "10.0.0.2" }, AuditActions.SignInSucceeded, _db.Clock.GetUtcNow(), "user",
                user.Id.ToString(), user.Email, SignInDetails.For("Mozilla/5.0 Test")));
            await db.SaveChangesAsync();
        }

        var signIns = (await Profiles.RecentSignInsAsync(actor)).Value;
        Assert.Equal(["10.0.0.2", "10.0.0.1"], signIns.Select(s => s.IpAddress));
        Assert.Equal("Mozilla/5.0 Test", signIns[0].Browser);
        Assert.Null(signIns[1].Browser);
    }

    private async Task<string?> StampAsync(Guid id)
    {
        await using var db = await _db.OpenAsync();
        return (await db.Users.AsNoTracking().SingleAsync(u => u.Id == id)).SecurityStamp;
    }
}
