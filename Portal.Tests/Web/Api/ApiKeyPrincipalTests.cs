using System.Security.Claims;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Tests.Web.Api;

/// <summary>The actor a key-authenticated principal carries is the one its claims describe, and it follows the key identity.</summary>
public sealed class ApiKeyPrincipalTests
{
    private static readonly KeyIdentity UserKey =
        new(Guid.NewGuid(), Guid.NewGuid(), "dev@portal.test", "Dev", [Roles.Developer, Roles.ReadOnly], [Scopes.Read, Scopes.Write]);

    private static readonly KeyIdentity ApplicationKey =
        new(Guid.NewGuid(), Guid.Empty, "application:x", "Billing app", [], [], Guid.NewGuid());

    /// <summary>The claims alone, as any other principal carrying them would be read.</summary>
    private static Actor FromClaimsOnly(ClaimsPrincipal principal, string ip) =>
        new ClaimsPrincipal(new ClaimsIdentity(principal.Claims.Select(c => new Claim(c.Type, c.Value)), ApiKeyDefaults.Scheme)).ToActor(ip);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CarriedActor_EqualsTheActorReadFromItsClaims(bool application)
    {
        var key = application ? ApplicationKey : UserKey;
        var principal = ApiKeyAuthenticator.PrincipalFor(key, ApiKeyDefaults.Scheme);
        var carried = principal.ToActor("10.0.0.7");
        var read = FromClaimsOnly(principal, "10.0.0.7");

        Assert.IsType<ApiKeyClaimsIdentity>(principal.Identity);
        Assert.Equal((read.UserId, read.Email, read.IpAddress, read.KeyId, read.DisplayName, read.ApplicationId),
            (carried.UserId, carried.Email, carried.IpAddress, carried.KeyId, carried.DisplayName, carried.ApplicationId));
        Assert.Equal(read.Roles, carried.Roles);
        Assert.Equal(read.Scopes, carried.Scopes);
        Assert.Equal(read.Permissions, carried.Permissions);
        Assert.Null(principal.ToActor().IpAddress);
    }

    [Fact]
    public void Claims_NameTheKeyOwnerRolesAndScopes()
    {
        var principal = ApiKeyAuthenticator.PrincipalFor(UserKey, ApiKeyDefaults.Scheme);
        Assert.True(principal.Identity!.IsAuthenticated);
        Assert.Equal(UserKey.Email, principal.Identity.Name);
        Assert.Equal(UserKey.UserId.ToString(), principal.FindFirstValue(ClaimTypes.NameIdentifier));
        Assert.Equal(UserKey.KeyId.ToString(), principal.FindFirstValue(PortalClaims.KeyId));
        Assert.Equal(UserKey.Roles, principal.FindAll(ClaimTypes.Role).Select(c => c.Value));
        Assert.Equal(UserKey.Scopes, principal.FindAll(PortalClaims.Scope).Select(c => c.Value));
        Assert.All(principal.Claims, c => Assert.Same(principal.Identity, c.Subject));
    }

    [Fact]
    public void EachPrincipal_IsNew_AndAChangedKeyIdentity_GivesItsOwnActor()
    {
        var first = ApiKeyAuthenticator.PrincipalFor(UserKey, ApiKeyDefaults.Scheme);
        var second = ApiKeyAuthenticator.PrincipalFor(UserKey, ApiKeyDefaults.Scheme);
        Assert.NotSame(first, second);
        Assert.NotSame(first.Identity, second.Identity);
        Assert.Same(first.ToActor(), second.ToActor());

        // The key cache makes a new KeyIdentity when a key or its owner changes; the actor follows it.
        var demoted = UserKey with { Roles = [Roles.ReadOnly] };
        var actor = ApiKeyAuthenticator.PrincipalFor(demoted, ApiKeyDefaults.Scheme).ToActor();
        Assert.Equal([Roles.ReadOnly], actor.Roles);
        Assert.False(actor.Can(Permission.ApiKeysWrite));
        Assert.True(first.ToActor().Can(Permission.ApiKeysWrite));
    }

    [Fact]
    public void Claims_AreThere_HoweverTheyAreFirstReadOrChanged()
    {
        static ClaimsIdentity Fresh() => (ClaimsIdentity)ApiKeyAuthenticator.PrincipalFor(UserKey, ApiKeyDefaults.Scheme).Identity!;
        var expected = Fresh().Claims.Select(c => (c.Type, c.Value)).ToList();
        Assert.Equal(5 + UserKey.Roles.Count + UserKey.Scopes.Count, expected.Count);

        Assert.Equal(UserKey.Email, Fresh().Name);
        Assert.Equal(expected, Fresh().Clone().Claims.Select(c => (c.Type, c.Value)));
        Assert.True(Fresh().HasClaim(ClaimTypes.Role, Roles.Developer));
        Assert.True(Fresh().HasClaim(c => c.Type == PortalClaims.Scope));
        Assert.NotNull(Fresh().FindFirst(c => c.Type == PortalClaims.KeyId));
        Assert.Equal(2, Fresh().FindAll(c => c.Type == ClaimTypes.Role).Count());

        var added = Fresh();
        added.AddClaim(new Claim("extra", "1"));
        Assert.Equal(expected.Count + 1, added.Claims.Count());
        var addedMany = Fresh();
        addedMany.AddClaims([new Claim("extra", "1"), new Claim("extra", "2")]);
        Assert.Equal(expected.Count + 2, addedMany.Claims.Count());

        var removed = Fresh();
        Assert.True(removed.TryRemoveClaim(removed.FindFirst(ClaimTypes.Role)));
        Assert.Equal(expected.Count - 1, removed.Claims.Count());
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true)) Fresh().WriteTo(writer);
        buffer.Position = 0;
        using var reader = new BinaryReader(buffer);
        Assert.Equal(expected, new ClaimsIdentity(reader).Claims.Select(c => (c.Type, c.Value)));
    }
}
