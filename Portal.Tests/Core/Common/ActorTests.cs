using Portal.Core.Common;

namespace Portal.Tests.Core.Common;

public sealed class ActorTests
{
    private static IEnumerable<List<string>> Subsets(IReadOnlyList<string> all) =>
        Enumerable.Range(0, 1 << all.Count).Select(mask => all.Where((_, i) => (mask & (1 << i)) != 0).ToList());

    private static HashSet<Permission> Expected(IEnumerable<string> roles, IEnumerable<string>? scopes)
    {
        var granted = roles.Where(Permissions.ByRole.ContainsKey).SelectMany(r => Permissions.ByRole[r]).ToHashSet();
        if (scopes is not null) granted.IntersectWith(scopes.Where(Permissions.ByScope.ContainsKey).SelectMany(s => Permissions.ByScope[s]));
        return granted;
    }

    [Fact]
    public void Permissions_AreRolesIntersectedWithScopes_ForEveryCombination_UnknownNamesGrantNothing()
    {
        foreach (var roles in Subsets([.. Roles.All, "no-such-role"]))
        {
            Assert.Equal(Expected(roles, null), new Actor(Guid.NewGuid(), "u@x", roles).Permissions);
            foreach (var scopes in Subsets([.. Scopes.All, "no-such-scope"]))
            {
                var actor = new Actor(Guid.NewGuid(), "u@x", roles, scopes, KeyId: Guid.NewGuid());
                Assert.Equal(Expected(roles, scopes), actor.Permissions);
                // Order and repetition of names do not matter.
                Assert.Equal(actor.Permissions, (actor with { Roles = [.. roles, .. roles.AsEnumerable().Reverse()], Scopes = [.. scopes.AsEnumerable().Reverse()] }).Permissions);
            }
        }
    }

    [Theory]
    [InlineData(Roles.SuperAdmin, "super-admin,admin,read-only,developer")]
    [InlineData(Roles.Admin, "admin,read-only,developer")]
    [InlineData(Roles.ReadOnly, "read-only")]
    [InlineData(Roles.Developer, "developer")]
    public void RolesCover_TheRolesThatGrantNothingBeyondTheActors(string role, string covered)
    {
        var actor = new Actor(Guid.NewGuid(), "u@x", [role]);
        Assert.Equal(covered, string.Join(',', Roles.All.Where(r => actor.RolesCover([r]))));
        // A pair is covered only when both are; no roles grant nothing, so they are covered by anyone.
        Assert.False(actor.RolesCover([Roles.Developer, Roles.SuperAdmin]) && role != Roles.SuperAdmin);
        Assert.True(actor.RolesCover([]));
        // The key's scopes do not narrow it: the rule compares roles.
        Assert.Equal(actor.RolesCover([Roles.Admin]), (actor with { Scopes = [Scopes.Read] }).RolesCover([Roles.Admin]));
    }

    [Fact]
    public void With_OtherRolesOrScopes_NeverKeepsTheOldAnswer()
    {
        var admin = new Actor(Guid.NewGuid(), "a@x", [Roles.SuperAdmin]);
        Assert.True(admin.Can(Permission.UsersDelete));
        Assert.False((admin with { Roles = [Roles.Developer] }).Can(Permission.UsersDelete));
        Assert.False((admin with { Scopes = [Scopes.Read] }).Can(Permission.UsersDelete));
        Assert.False((admin with { Scopes = [] }).Can(Permission.Self));
        Assert.Equal(Permissions.ForApplicationKey, (admin with { ApplicationId = Guid.NewGuid() }).Permissions);
        Assert.True(admin.Can(Permission.UsersDelete));
    }
}
