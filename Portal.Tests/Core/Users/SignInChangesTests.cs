using Microsoft.Extensions.Time.Testing;
using Portal.Core.Features.Users;

namespace Portal.Tests.Core.Users;

public sealed class SignInChangesTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void ACookieIssuedBeforeTheChange_OrWithinItsSecond_IsDueForACheck_ALaterOneIsNot()
    {
        var changes = new SignInChanges(_clock);
        var user = Guid.NewGuid();
        var issuedBefore = _clock.GetUtcNow().AddSeconds(-30);
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        changes.Notify(user);

        Assert.True(changes.ChangedSince(user, issuedBefore));
        Assert.True(changes.ChangedSince(user, _clock.GetUtcNow().AddMilliseconds(500))); // cookie times are whole seconds
        Assert.True(changes.ChangedSince(user, null));
        Assert.False(changes.ChangedSince(user, _clock.GetUtcNow().AddSeconds(2)));
        Assert.False(changes.ChangedSince(Guid.NewGuid(), issuedBefore));
    }

    [Fact]
    public void AChangeIsForgottenOnceThePeriodicCheckHasSeenEveryCookie()
    {
        var changes = new SignInChanges(_clock);
        var user = Guid.NewGuid();
        var issued = _clock.GetUtcNow().AddSeconds(-5);
        changes.Notify(user);
        _clock.Advance(SignInChanges.CookieCheckInterval + TimeSpan.FromSeconds(1));
        changes.Notify(Guid.NewGuid()); // a later change prunes what the periodic check has covered

        Assert.False(changes.ChangedSince(user, issued));
    }

    [Fact]
    public void AChangeOlderThanThePeriodicCheck_NoLongerMakesACookieDue_WithoutAnotherChange()
    {
        var changes = new SignInChanges(_clock);
        var user = Guid.NewGuid();
        var issued = _clock.GetUtcNow();
        changes.Notify(user);
        _clock.Advance(SignInChanges.CookieCheckInterval + TimeSpan.FromSeconds(1));

        Assert.False(changes.ChangedSince(user, issued));
    }

    [Fact]
    public void Notify_TellsTheListeners()
    {
        var changes = new SignInChanges(_clock);
        var heard = new List<Guid>();
        changes.StampChanged += heard.Add;
        var user = Guid.NewGuid();

        changes.Notify(user);

        Assert.Equal([user], heard);
    }
}
