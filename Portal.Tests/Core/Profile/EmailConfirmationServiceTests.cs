using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Profile;
using Portal.Core.Features.SignUp;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Profile;

public sealed class EmailConfirmationServiceTests : IAsyncLifetime
{
    private const string LinkBase = "https://portal.test";
    private TestDatabase _db = null!;
    private EmailConfirmationService Confirmations => _db.Get<EmailConfirmationService>();

    public async ValueTask InitializeAsync() =>
        _db = await TestDatabase.CreateAsync(SelfServiceSetup.With(portal: o => o.SignUp.RequireConfirmedEmail = true));

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<SignedUp> SignUpAsync(TestDatabase db, string email) =>
        (await db.Get<SignUpService>().SignUpAsync(email, "New Dev", "Passw0rd!long", "10.4.4.4", linkBase: LinkBase)).Value;

    [Fact]
    public async Task SignUp_CreatesAnUnconfirmedUser_AndQueuesTheLink_Audited()
    {
        var signedUp = await SignUpAsync(_db, "confirm.me@example.com");
        Assert.True(signedUp.ConfirmationRequired);
        Assert.False(signedUp.User.EmailConfirmed);

        await using var db = await _db.OpenAsync();
        // The one confirmation message (the welcome is another).
        var message = await db.EmailOutbox.SingleAsync(m => m.Subject == EmailConfirmationService.Subject);
        Assert.Equal("confirm.me@example.com", message.To);
        Assert.Equal(EmailConfirmationService.Subject, message.Subject);
        Assert.Contains($"{LinkBase}/account/confirm-email?user={signedUp.User.Id}&token=", message.TextBody);
        var audit = await db.Audit.SingleAsync(a => a.Action == AuditActions.EmailConfirmationSent);
        Assert.Equal("10.4.4.4", audit.IpAddress);
    }

    [Fact]
    public async Task SignUp_WithoutTheSetting_IsConfirmedAndSendsNothing()
    {
        await using var open = await TestDatabase.CreateAsync(SelfServiceSetup.With());
        var signedUp = await SignUpAsync(open, "open@example.com");
        Assert.False(signedUp.ConfirmationRequired);
        Assert.True(signedUp.User.EmailConfirmed);
        await using var db = await open.OpenAsync();
        Assert.False(await db.EmailOutbox.AnyAsync(m => m.Subject == EmailConfirmationService.Subject));
    }

    [Fact]
    public async Task Confirm_WorksOnce_AndIsAudited()
    {
        var signedUp = await SignUpAsync(_db, "once@example.com");
        var token = await TokenAsync(_db, "once@example.com");

        Assert.True((await Confirmations.ConfirmAsync(signedUp.User.Id, token, "10.5.5.5")).IsSuccess);
        Assert.IsType<EmailAlreadyConfirmed>((await Confirmations.ConfirmAsync(signedUp.User.Id, token, null)).Error);
        await using var db = await _db.OpenAsync();
        Assert.True((await db.Users.SingleAsync(u => u.Id == signedUp.User.Id)).EmailConfirmed);
        Assert.Equal(1, await db.Audit.CountAsync(a => a.Action == AuditActions.EmailConfirmed && a.ActorId == signedUp.User.Id && a.IpAddress == "10.5.5.5"));
    }

    [Fact]
    public async Task Confirm_GarbageOrAnotherUsersToken_IsInvalid()
    {
        var a = await SignUpAsync(_db, "a@example.com");
        var b = await SignUpAsync(_db, "b@example.com");
        var tokenOfA = await TokenAsync(_db, "a@example.com");
        Assert.IsType<InvalidConfirmationLink>((await Confirmations.ConfirmAsync(b.User.Id, tokenOfA, null)).Error);
        Assert.IsType<InvalidConfirmationLink>((await Confirmations.ConfirmAsync(a.User.Id, "garbage", null)).Error);
        Assert.IsType<InvalidConfirmationLink>((await Confirmations.ConfirmAsync(Guid.NewGuid(), tokenOfA, null)).Error);
    }

    [Fact]
    public async Task Confirm_ExpiredLink_IsInvalid()
    {
        // Identity's token provider reads the system clock: a lifetime of one second stands in for the 24 hours.
        await using var shortLived = await TestDatabase.CreateAsync(SelfServiceSetup.With(
            portal: o => o.SignUp.RequireConfirmedEmail = true, confirmationLifespan: TimeSpan.FromSeconds(1)));
        var signedUp = await SignUpAsync(shortLived, "late@example.com");
        var token = await TokenAsync(shortLived, "late@example.com");
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        Assert.IsType<InvalidConfirmationLink>((await shortLived.Get<EmailConfirmationService>().ConfirmAsync(signedUp.User.Id, token, null)).Error);
    }

    [Fact]
    public async Task Keys_OfAnUnconfirmedUser_AreRefused_ThenWorkOnceConfirmed()
    {
        var signedUp = await SignUpAsync(_db, "keys@example.com");
        var keys = _db.Get<ApiKeyService>();
        var personal = await keys.CreateAsync(await _db.RootAsync(), new CreateApiKey { Name = "script", Scopes = ["read"], OwnerId = signedUp.User.Id });
        Assert.True(personal.IsSuccess, personal.Error?.Detail);

        Assert.Equal(KeyCheckCode.Disabled, (await keys.AuthenticateAsync(signedUp.FirstApplication.Key.Key)).Code);
        Assert.Equal(KeyCheckCode.Disabled, (await keys.AuthenticateAsync(personal.Value.Key)).Code);

        Assert.True((await Confirmations.ConfirmAsync(signedUp.User.Id, await TokenAsync(_db, "keys@example.com"), null)).IsSuccess);
        Assert.Equal(KeyCheckCode.Valid, (await keys.AuthenticateAsync(signedUp.FirstApplication.Key.Key)).Code);
        Assert.Equal(KeyCheckCode.Valid, (await keys.AuthenticateAsync(personal.Value.Key)).Code);
    }

    [Fact]
    public void RequestResend_AnyWellFormedAddress_GetsTheSameAnswer()
    {
        foreach (var email in new[] { "nobody@example.com", TestDatabase.AdminEmail, "again@example.com" })
            Assert.True(Confirmations.RequestResend(new ResendConfirmation { Email = email }, LinkBase, null).IsSuccess);
        Assert.IsType<ValidationError>(Confirmations.RequestResend(new ResendConfirmation { Email = "not an email" }, LinkBase, null).Error);
    }

    [Fact]
    public async Task ProcessResend_SendsOnlyToUnconfirmed_AndLimitedPerAddress()
    {
        await SignUpAsync(_db, "again@example.com");
        Assert.False(await Confirmations.ProcessResendAsync(new("nobody@example.com", LinkBase, null)));
        Assert.False(await Confirmations.ProcessResendAsync(new(TestDatabase.AdminEmail, LinkBase, null)));
        var sent = new List<bool>();
        for (var i = 0; i < 4; i++)
            sent.Add(await Confirmations.ProcessResendAsync(new(" AGAIN@example.com ", LinkBase, "10.6.6.6")));
        Assert.Equal([true, true, false, false], sent);

        await using var db = await _db.OpenAsync();
        // The sign-up's own message and two resends: three an hour.
        Assert.Equal(3, await db.EmailOutbox.CountAsync(m => m.To == "again@example.com" && m.Subject == EmailConfirmationService.Subject));
        Assert.Equal(3, await db.EmailOutbox.CountAsync(m => m.Subject == EmailConfirmationService.Subject));
        Assert.Equal(2, await db.Audit.CountAsync(a => a.Action == AuditActions.EmailConfirmationSent && a.IpAddress == "10.6.6.6"));
        _db.Clock.Advance(TimeSpan.FromMinutes(61));
        Assert.True(await Confirmations.ProcessResendAsync(new("again@example.com", LinkBase, null)));
        Assert.Equal(4, await db.EmailOutbox.CountAsync(m => m.To == "again@example.com" && m.Subject == EmailConfirmationService.Subject));
    }

    [Fact]
    public async Task ProcessResend_WithoutTheSetting_SendsNothing()
    {
        await using var open = await TestDatabase.CreateAsync(SelfServiceSetup.With());
        Assert.True(open.Get<EmailConfirmationService>().RequestResend(new ResendConfirmation { Email = TestDatabase.AdminEmail }, LinkBase, null).IsSuccess);
        Assert.False(await open.Get<EmailConfirmationService>().ProcessResendAsync(new(TestDatabase.AdminEmail, LinkBase, null)));
    }

    private static async Task<string> TokenAsync(TestDatabase database, string to)
    {
        await using var db = await database.OpenAsync();
        var message = await db.EmailOutbox.Where(m => m.To == to && m.Subject == EmailConfirmationService.Subject).OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).FirstAsync();
        var link = message.TextBody.Split(['\n', ' '], StringSplitOptions.RemoveEmptyEntries).First(w => w.Contains("/account/confirm-email?"));
        return Uri.UnescapeDataString(link.Trim()[(link.IndexOf("token=", StringComparison.Ordinal) + 6)..].Trim());
    }
}
