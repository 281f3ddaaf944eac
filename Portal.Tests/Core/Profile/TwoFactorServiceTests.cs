using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Profile;

public sealed class TwoFactorServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TwoFactorService TwoFactor => _db.Get<TwoFactorService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(SelfServiceSetup.With());

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<(UserDto User, Actor Actor, RecoveryCodes Codes)> EnrolledAsync(TestDatabase db, string role = Roles.Developer)
    {
        var (user, actor) = await db.CreateUserAsync(role);
        var setup = (await db.Get<TwoFactorService>().GetSetupAsync(actor)).Value;
        var codes = await db.Get<TwoFactorService>().EnableAsync(actor, new EnableTwoFactor { Code = Totp.Code(setup.SharedKey) });
        Assert.True(codes.IsSuccess, codes.Error?.Detail);
        return (user, actor, codes.Value);
    }

    [Fact]
    public async Task Setup_GivesAKeyAndAnOtpauthAddress_AndKeepsTheStamp()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var stamp = await StampAsync(user.Id);
        var first = (await TwoFactor.GetSetupAsync(actor)).Value;
        var again = (await TwoFactor.GetSetupAsync(actor)).Value;
        Assert.Equal(first.SharedKey, again.SharedKey);
        Assert.StartsWith("otpauth://totp/Portal%3A", first.AuthenticatorUri);
        Assert.Contains($"secret={first.SharedKey}", first.AuthenticatorUri);
        Assert.Equal(first.SharedKey.ToLowerInvariant(), first.FormattedKey.Replace(" ", ""));
        Assert.Equal(stamp, await StampAsync(user.Id));
    }

    [Fact]
    public async Task Enable_WrongCode_IsAFieldError_AndStaysOff()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        await TwoFactor.GetSetupAsync(actor);
        var result = await TwoFactor.EnableAsync(actor, new EnableTwoFactor { Code = "000000" });
        Assert.True(Assert.IsType<ValidationError>(result.Error).Errors.ContainsKey("code"));
        Assert.False((await TwoFactor.GetStatusAsync(actor)).Value.Enabled);
    }

    [Fact]
    public async Task Enable_RightCode_TurnsItOn_GivesTenCodes_EndsSessions_AndAudits()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var stamp = await StampAsync(user.Id);
        var setup = (await TwoFactor.GetSetupAsync(actor)).Value;
        var result = await TwoFactor.EnableAsync(actor, new EnableTwoFactor { Code = Totp.Code(setup.SharedKey)[..3] + " " + Totp.Code(setup.SharedKey)[3..] });

        Assert.Equal(TwoFactorService.RecoveryCodeCount, result.Value.Codes.Count);
        Assert.Equal(10, result.Value.Codes.Distinct().Count());
        var status = (await TwoFactor.GetStatusAsync(actor)).Value;
        Assert.True(status.Enabled);
        Assert.Equal(10, status.RecoveryCodesLeft);
        Assert.NotEqual(stamp, await StampAsync(user.Id));
        Assert.True(_db.Get<SignInChanges>().ChangedSince(user.Id, _db.Clock.GetUtcNow().AddSeconds(-30)));
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.TwoFactorEnabled && a.TargetId == user.Id.ToString()));
        Assert.IsType<TwoFactorAlreadyEnabled>((await TwoFactor.GetSetupAsync(actor)).Error);
    }

    [Fact]
    public async Task RecoveryCode_WorksOnce()
    {
        var (user, _, codes) = await EnrolledAsync(_db);
        await using var scope = _db.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var found = (await users.FindByIdAsync(user.Id.ToString()))!;

        Assert.True((await users.RedeemTwoFactorRecoveryCodeAsync(found, codes.Codes[0])).Succeeded);
        Assert.False((await users.RedeemTwoFactorRecoveryCodeAsync(found, codes.Codes[0])).Succeeded);
        Assert.True((await users.RedeemTwoFactorRecoveryCodeAsync(found, codes.Codes[1])).Succeeded);
        Assert.Equal(8, await users.CountRecoveryCodesAsync(found));
    }

    [Fact]
    public async Task Regenerate_ReplacesTheCodes()
    {
        var (_, actor, codes) = await EnrolledAsync(_db);
        var fresh = (await TwoFactor.RegenerateRecoveryCodesAsync(actor)).Value;
        Assert.Empty(fresh.Codes.Intersect(codes.Codes));
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.RecoveryCodesRegenerated && a.ActorId == actor.UserId));
    }

    [Fact]
    public async Task Disable_NeedsThePassword_ThenTurnsItOffAndForgetsTheKey()
    {
        var (user, actor, _) = await EnrolledAsync(_db);
        var wrong = await TwoFactor.DisableAsync(actor, new DisableTwoFactor { Password = "not-it" });
        Assert.True(Assert.IsType<ValidationError>(wrong.Error).Errors.ContainsKey("password"));

        Assert.True((await TwoFactor.DisableAsync(actor, new DisableTwoFactor { Password = "Passw0rd!" })).IsSuccess);
        var status = (await TwoFactor.GetStatusAsync(actor)).Value;
        Assert.False(status.Enabled);
        await using var db = await _db.OpenAsync();
        Assert.False(await db.UserTokens.AnyAsync(t => t.UserId == user.Id && t.Value != ""));
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.TwoFactorDisabled && a.ActorId == user.Id));
    }

    [Fact]
    public async Task Reset_BySuperAdmin_TurnsItOff_EndsSessions_AndAudits()
    {
        var (user, _, _) = await EnrolledAsync(_db);
        var stamp = await StampAsync(user.Id);
        var root = await _db.RootAsync();
        Assert.True((await TwoFactor.ResetAsync(root with { IpAddress = "10.3.3.3" }, user.Id)).IsSuccess);

        Assert.NotEqual(stamp, await StampAsync(user.Id));
        await using var db = await _db.OpenAsync();
        Assert.False((await db.Users.SingleAsync(u => u.Id == user.Id)).TwoFactorEnabled);
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.TwoFactorReset);
        Assert.Equal(root.UserId, audit.ActorId);
        Assert.Equal(user.Id.ToString(), audit.TargetId);
        Assert.Equal("10.3.3.3", audit.IpAddress);
    }

    [Fact]
    public async Task Reset_ByAdminOrOnYourself_IsForbidden()
    {
        var (user, _, _) = await EnrolledAsync(_db);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        Assert.IsType<SuperAdminResetsTwoFactor>((await TwoFactor.ResetAsync(admin, user.Id)).Error);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        Assert.IsType<SuperAdminResetsTwoFactor>((await TwoFactor.ResetAsync(readOnly, user.Id)).Error);
        var root = await _db.RootAsync();
        Assert.IsType<NotOnYourself>((await TwoFactor.ResetAsync(root, root.UserId)).Error);
        await using var db = await _db.OpenAsync();
        Assert.True((await db.Users.SingleAsync(u => u.Id == user.Id)).TwoFactorEnabled);
        Assert.False(await db.Audit.AnyAsync(a => a.Action == AuditActions.TwoFactorReset));
    }

    [Fact]
    public async Task ApiKeyActor_CannotManageTwoFactor()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer, scopes: ["read", "write"]);
        var keyActor = actor with { KeyId = Guid.NewGuid() };
        Assert.IsType<ForbiddenError>((await TwoFactor.GetSetupAsync(keyActor)).Error);
        Assert.IsType<ForbiddenError>((await TwoFactor.EnableAsync(keyActor, new EnableTwoFactor { Code = "123456" })).Error);
    }

    [Fact]
    public async Task RequiredForAdmins_OnlyWhenTheSwitchIsOn_AndNotForOtherRoles()
    {
        var (admin, adminActor) = await _db.CreateUserAsync(Roles.Admin);
        Assert.False(await TwoFactor.MustEnrolAsync(admin.Id, adminActor.Roles));

        await using var strict = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o => o.Security.RequireTwoFactorForAdmins = true));
        var service = strict.Get<TwoFactorService>();
        var (strictAdmin, strictAdminActor) = await strict.CreateUserAsync(Roles.Admin);
        var (developer, developerActor) = await strict.CreateUserAsync(Roles.Developer);
        var (auditor, auditorActor) = await strict.CreateUserAsync(Roles.ReadOnly);
        var root = await strict.RootAsync();
        Assert.True(await service.MustEnrolAsync(strictAdmin.Id, strictAdminActor.Roles));
        Assert.True(await service.MustEnrolAsync(root.UserId, root.Roles));
        Assert.False(await service.MustEnrolAsync(developer.Id, developerActor.Roles));
        Assert.False(await service.MustEnrolAsync(auditor.Id, auditorActor.Roles));
        Assert.True((await service.GetStatusAsync(strictAdminActor)).Value.Required);

        var (enrolled, enrolledActor, _) = await EnrolledAsync(strict, Roles.Admin);
        Assert.False(await service.MustEnrolAsync(enrolled.Id, enrolledActor.Roles));
        // Required: it cannot be turned off, even with the right password.
        Assert.IsType<TwoFactorRequiredForYourRoles>((await service.DisableAsync(enrolledActor, new DisableTwoFactor { Password = "Passw0rd!" })).Error);
        Assert.False(await service.MustEnrolAsync(enrolled.Id, enrolledActor.Roles));
    }

    [Fact]
    public void NormalizeRecoveryCode_KeepsTheDash_AndRestoresIt()
    {
        Assert.Equal("V55F5-53XX4", TwoFactorService.NormalizeRecoveryCode("V55F5-53XX4"));
        Assert.Equal("V55F5-53XX4", TwoFactorService.NormalizeRecoveryCode(" v55f5 53xx4 "));
        Assert.Equal("123456", TwoFactorService.NormalizeCode("123-456"));
    }

    [Fact]
    public void FormatKey_GroupsOfFourLowercase() =>
        Assert.Equal("abcd efgh ijkl mn", TwoFactorService.FormatKey("ABCDEFGHIJKLMN"));

    private async Task<string?> StampAsync(Guid userId)
    {
        await using var db = await _db.OpenAsync();
        return (await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId)).SecurityStamp;
    }
}
