using Microsoft.Extensions.Time.Testing;
using Portal.Core.Features.Applications;
using Portal.Web.Features.Applications;

namespace Portal.Tests.Web.Applications;

public sealed class FirstKeyHandoffTests
{
    private static ApplicationKeyIssued Key(string secret) => new(new ApplicationKeyDto(Guid.NewGuid(), Guid.NewGuid(), "ptl_…", true, default, DateTimeOffset.UnixEpoch, null, null, null), secret);

    [Fact]
    public void Take_SecondRead_GetsNothing()
    {
        var handoff = new FirstKeyHandoff(new FakeTimeProvider());
        var user = Guid.NewGuid();
        handoff.Give(user, Key("ptl_secret"));

        Assert.Equal("ptl_secret", handoff.Take(user)?.Key);
        Assert.Null(handoff.Take(user));
    }

    [Fact]
    public void Take_AnotherUser_GetsNothing_AndLeavesTheKey()
    {
        var handoff = new FirstKeyHandoff(new FakeTimeProvider());
        var user = Guid.NewGuid();
        handoff.Give(user, Key("ptl_secret"));

        Assert.Null(handoff.Take(Guid.NewGuid()));
        Assert.Equal("ptl_secret", handoff.Take(user)?.Key);
    }

    [Fact]
    public void Take_AfterTheLifetime_GetsNothing()
    {
        var clock = new FakeTimeProvider();
        var handoff = new FirstKeyHandoff(clock);
        var user = Guid.NewGuid();
        handoff.Give(user, Key("ptl_secret"));

        clock.Advance(FirstKeyHandoff.Lifetime);

        Assert.Null(handoff.Take(user));
    }
}
