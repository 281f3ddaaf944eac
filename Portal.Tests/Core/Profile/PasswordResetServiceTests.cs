using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Email;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Profile;

public sealed class PasswordResetServiceTests : IAsyncLifetime
{
    private const string LinkBase = "https://portal.test";
    private TestDatabase _db = null!;
    private PasswordResetService Resets => _db.Get<PasswordResetService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o => o.PasswordReset.PerEmailLimit = 3));

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task Process_ActiveUser_QueuesOneEmailWithALinkAndAudits()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        Assert.True(await Resets.ProcessAsync(new PasswordResetService.Pending(user.Email.ToUpperInvariant(), LinkBase, "10.1.1.1")));

        await using var db = await _db.OpenAsync();
        var message = await db.EmailOutbox.SingleAsync();
        Assert.Equal(user.Email, message.To);
        Assert.Equal(PasswordResetService.Subject, message.Subject);
        Assert.Contains($"{LinkBase}/account/reset-password?user={user.Id}&token=", message.TextBody);
        Assert.Contains("My Organisation", message.TextBody);
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.PasswordResetRequested);
        Assert.Equal("10.1.1.1", audit.IpAddress);
        Assert.DoesNotContain("token", audit.Details ?? "");
    }

    [Fact]
    public async Task Process_UnknownOrInactiveUser_QueuesNothing()
    {
        var (inactive, _) = await _db.CreateUserAsync(Roles.Developer);
        await _db.Get<UserService>().UpdateAsync(await _db.RootAsync(), inactive.Id, new UpdateUser { Status = UserStatus.Inactive });

        Assert.False(await Resets.ProcessAsync(new PasswordResetService.Pending("nobody@portal.test", LinkBase, null)));
        Assert.False(await Resets.ProcessAsync(new PasswordResetService.Pending(inactive.Email, LinkBase, null)));
        await using var db = await _db.OpenAsync();
        Assert.False(await db.EmailOutbox.AnyAsync());
    }

    [Fact]
    public void Request_KnownAndUnknownAddresses_GetTheSameAnswer()
    {
        var known = Resets.Request(new ForgotPassword { Email = TestDatabase.AdminEmail }, LinkBase, null);
        var unknown = Resets.Request(new ForgotPassword { Email = "nobody@portal.test" }, LinkBase, null);
        Assert.True(known.IsSuccess);
        Assert.True(unknown.IsSuccess);
        Assert.IsType<ValidationError>(Resets.Request(new ForgotPassword { Email = "not an email" }, LinkBase, null).Error);
    }

    [Fact]
    public async Task Process_PerEmailLimit_StopsSendingWithinTheWindow_ThenAllowsAgain()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        var pending = new PasswordResetService.Pending(user.Email, LinkBase, null);
        for (var i = 0; i < 3; i++) Assert.True(await Resets.ProcessAsync(pending));
        Assert.False(await Resets.ProcessAsync(pending));
        _db.Clock.Advance(TimeSpan.FromMinutes(16));
        Assert.True(await Resets.ProcessAsync(pending));
    }

    [Fact]
    public async Task Reset_ValidLink_SetsThePasswordEndsSessions_AndTheLinkWorksOnce()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        var token = await TokenForAsync(user.Email);
        var stamp = await StampAsync(user.Id);
        Assert.True(await Resets.IsValidAsync(user.Id, token));

        var first = await Resets.ResetAsync(new ResetPasswordWithLink { UserId = user.Id, Token = token, Password = "Br4nd-new!", ConfirmPassword = "Br4nd-new!" }, "10.2.2.2");
        Assert.True(first.IsSuccess);
        Assert.NotEqual(stamp, await StampAsync(user.Id));
        Assert.True(_db.Get<SignInChanges>().ChangedSince(user.Id, _db.Clock.GetUtcNow().AddSeconds(-30)));

        Assert.False(await Resets.IsValidAsync(user.Id, token));
        var second = await Resets.ResetAsync(new ResetPasswordWithLink { UserId = user.Id, Token = token, Password = "Other-pass1!", ConfirmPassword = "Other-pass1!" }, null);
        Assert.IsType<InvalidResetLink>(second.Error);
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.PasswordResetByEmail && a.ActorId == user.Id && a.IpAddress == "10.2.2.2"));
    }

    [Fact]
    public async Task Reset_TokenOfAnotherUserOrGarbage_IsInvalid()
    {
        var (a, _) = await _db.CreateUserAsync(Roles.Developer);
        var (b, _) = await _db.CreateUserAsync(Roles.Developer);
        var tokenOfA = await TokenForAsync(a.Email);
        Assert.False(await Resets.IsValidAsync(b.Id, tokenOfA));
        Assert.False(await Resets.IsValidAsync(a.Id, "garbage"));
        Assert.False(await Resets.IsValidAsync(a.Id, ""));
    }

    [Fact]
    public async Task Reset_WeakPassword_IsAFieldErrorAndKeepsTheLink()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Developer);
        var token = await TokenForAsync(user.Email);
        var result = await Resets.ResetAsync(new ResetPasswordWithLink { UserId = user.Id, Token = token, Password = "short", ConfirmPassword = "short" }, null);
        Assert.True(Assert.IsType<ValidationError>(result.Error).Errors.ContainsKey("password"));
        Assert.True(await Resets.IsValidAsync(user.Id, token));
    }

    [Fact]
    public async Task Reset_ExpiredLink_IsInvalid()
    {
        // Identity's token provider reads the system clock: a lifetime of one second stands in for the hour.
        await using var shortLived = await TestDatabase.CreateAsync(SelfServiceSetup.With(tokenLifespan: TimeSpan.FromSeconds(1)));
        var (user, _) = await shortLived.CreateUserAsync(Roles.Developer);
        var resets = shortLived.Get<PasswordResetService>();
        Assert.True(await resets.ProcessAsync(new PasswordResetService.Pending(user.Email, LinkBase, null)));
        var token = await TokenFromOutboxAsync(shortLived);
        Assert.True(await resets.IsValidAsync(user.Id, token));
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.False(await resets.IsValidAsync(user.Id, token));
        var result = await resets.ResetAsync(new ResetPasswordWithLink { UserId = user.Id, Token = token, Password = "Br4nd-new!", ConfirmPassword = "Br4nd-new!" }, null);
        Assert.IsType<InvalidResetLink>(result.Error);
    }

    [Fact]
    public void LinkLifetime_IsOneHour() => Assert.Equal(TimeSpan.FromHours(1), PasswordResetService.LinkLifetime);

    private async Task<string> TokenForAsync(string email)
    {
        Assert.True(await Resets.ProcessAsync(new PasswordResetService.Pending(email, LinkBase, null)));
        return await TokenFromOutboxAsync(_db, email);
    }

    internal static async Task<string> TokenFromOutboxAsync(TestDatabase database, string? to = null)
    {
        await using var db = await database.OpenAsync();
        var message = await db.EmailOutbox.Where(m => to == null || m.To == to).OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).FirstAsync();
        var link = message.TextBody.Split(['\n', ' '], StringSplitOptions.RemoveEmptyEntries).First(w => w.Contains("/account/reset-password?"));
        return Uri.UnescapeDataString(link.Trim()[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..].Trim());
    }

    private async Task<string?> StampAsync(Guid id)
    {
        await using var db = await _db.OpenAsync();
        return (await db.Users.AsNoTracking().SingleAsync(u => u.Id == id)).SecurityStamp;
    }
}
