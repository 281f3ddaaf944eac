using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.ApiKeys;

public sealed class ApiKeyServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private ApiKeyService Keys => _db.Get<ApiKeyService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static CreateApiKey NewKey(string name = "ci", params string[] scopes) =>
        new() { Name = name, Scopes = scopes.Length == 0 ? [Scopes.Read] : [.. scopes] };

    private async Task<(Actor Actor, ApiKeyIssued Key)> IssueAsync(string role = Roles.Developer, DateTimeOffset? expiresAt = null, params string[] scopes)
    {
        var (_, actor) = await _db.CreateUserAsync(role);
        var request = NewKey("key", scopes);
        request.ExpiresAt = expiresAt;
        var result = await Keys.CreateAsync(actor, request);
        Assert.True(result.IsSuccess, result.Error?.Detail);
        return (actor, result.Value);
    }

    [Fact]
    public async Task Create_ReturnsTheKeyOnce_AndDetailsNeverContainIt()
    {
        var (actor, issued) = await IssueAsync(Roles.Developer, null, Scopes.Read, Scopes.Write);

        Assert.StartsWith("ptl_", issued.Key);
        Assert.Equal([Scopes.Read, Scopes.Write], issued.Scopes);
        Assert.Equal(ApiKeyStatus.Active, issued.Status);
        Assert.Equal($"{issued.Key[..8]}…{issued.Key[^4..]}", issued.MaskedKey);
        var details = await Keys.GetAsync(actor, issued.Id);
        var list = await Keys.ListAsync(actor, new ApiKeyQuery());
        Assert.DoesNotContain(issued.Key, JsonSerializer.Serialize(details.Value));
        Assert.DoesNotContain(issued.Key, JsonSerializer.Serialize(list.Value));
        Assert.DoesNotContain(issued.Key, issued.ToString());
        await using var db = await _db.OpenAsync();
        Assert.True(await db.Audit.AnyAsync(a => a.Action == AuditActions.ApiKeyCreated && a.TargetId == issued.Id.ToString()));
        Assert.DoesNotContain(await db.Audit.Select(a => a.Details ?? "").ToListAsync(), d => d.Contains(issued.Key));
    }

    [Fact]
    public async Task Authenticate_ValidKey_YieldsOwnerRolesAndScopes()
    {
        var (actor, issued) = await IssueAsync(Roles.Admin, null, Scopes.Read, Scopes.Admin);
        var check = await Keys.AuthenticateAsync(issued.Key);
        Assert.Equal(KeyCheckCode.Valid, check.Code);
        Assert.Equal(actor.UserId, check.Identity!.UserId);
        Assert.Equal(issued.Id, check.Identity.KeyId);
        Assert.Equal([Roles.Admin], check.Identity.Roles);
        Assert.Equal([Scopes.Read, Scopes.Admin], check.Identity.Scopes);
    }

    [Fact]
    public async Task Authenticate_BadChecksum_NeverReachesTheDatabase()
    {
        var (_, issued) = await IssueAsync();
        var before = Keys.DatabaseLookups;
        for (var i = 0; i < issued.Key.Length; i++)
        {
            var changed = string.Concat(issued.Key.AsSpan(0, i), (issued.Key[i] == 'x' ? 'y' : 'x').ToString(), issued.Key.AsSpan(i + 1));
            var check = await Keys.AuthenticateAsync(changed);
            Assert.False(check.IsValid);
            Assert.Equal(KeyCheckCode.Malformed, check.Code);
        }
        Assert.Equal(before, Keys.DatabaseLookups);
    }

    [Fact]
    public async Task Authenticate_WellFormedUnknownKey_IsNotFound()
    {
        var check = await Keys.AuthenticateAsync(ApiKeyFormat.Generate().Key);
        Assert.Equal(KeyCheckCode.NotFound, check.Code);
    }

    [Fact]
    public async Task Authenticate_Repeated_IsAnsweredFromTheCache()
    {
        var (_, issued) = await IssueAsync();
        await Keys.AuthenticateAsync(issued.Key);
        var lookups = Keys.DatabaseLookups;
        for (var i = 0; i < 100; i++) Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.Equal(lookups, Keys.DatabaseLookups);
    }

    [Fact]
    public async Task Authenticate_Expiry_ValidOneTickBefore_RefusedAtExpiry()
    {
        var expires = _db.Clock.GetUtcNow().AddHours(1);
        var (_, issued) = await IssueAsync(Roles.Developer, expires);

        _db.Clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromTicks(1));
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        _db.Clock.Advance(TimeSpan.FromTicks(1));
        // The key was just cached: the cache must honour the expiry too.
        Assert.Equal(KeyCheckCode.Expired, (await Keys.AuthenticateAsync(issued.Key)).Code);
        _db.Get<ApiKeyCache>().Clear();
        Assert.Equal(KeyCheckCode.Expired, (await Keys.AuthenticateAsync(issued.Key)).Code);
        Assert.Equal(ApiKeyStatus.Expired, (await Keys.GetAsync(await _db.RootAsync(), issued.Id)).Value.Status);
    }

    [Fact]
    public async Task Create_NullScopesOrANullScope_IsValidationErrorOnScopes_NotAnException()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);

        // What a JSON body can say and a form cannot: "scopes": null, [null], ["read", null].
        var missing = await Keys.CreateAsync(actor, new CreateApiKey { Name = "n", Scopes = null! });
        var nullEntry = await Keys.CreateAsync(actor, new CreateApiKey { Name = "n", Scopes = [null!] });
        var nullAmongKnown = await Keys.CreateAsync(actor, new CreateApiKey { Name = "n", Scopes = [Scopes.Read, null!] });

        Assert.Equal(["Choose at least one scope."], Assert.IsType<ValidationError>(missing.Error).Errors["scopes"]);
        Assert.Contains("null", Assert.Single(Assert.IsType<ValidationError>(nullEntry.Error).Errors["scopes"]));
        Assert.Contains("null", Assert.Single(Assert.IsType<ValidationError>(nullAmongKnown.Error).Errors["scopes"]));
        await using var db = await _db.OpenAsync();
        Assert.False(await db.ApiKeys.AnyAsync(k => k.OwnerUserId == actor.UserId));
    }

    [Fact]
    public async Task Revoke_CachedKey_RefusedOnTheNextCheck_AndIsIdempotent()
    {
        var (actor, issued) = await IssueAsync();
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);

        Assert.True((await Keys.RevokeAsync(actor, issued.Id)).IsSuccess);
        Assert.Equal(KeyCheckCode.Revoked, (await Keys.AuthenticateAsync(issued.Key)).Code);
        Assert.True((await Keys.RevokeAsync(actor, issued.Id)).IsSuccess);
        Assert.Equal(ApiKeyStatus.Revoked, (await Keys.GetAsync(actor, issued.Id)).Value.Status);
        Assert.IsType<KeyNotActive>((await Keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey())).Error);
        await using var db = await _db.OpenAsync();
        Assert.Equal(1, await db.Audit.CountAsync(a => a.Action == AuditActions.ApiKeyRevoked));
    }

    [Fact]
    public async Task Regenerate_WithoutGrace_OldSecretRefusedAtOnce_SameIdNameScopes()
    {
        var (actor, issued) = await IssueAsync(Roles.Developer, null, Scopes.Read, Scopes.Write);
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);

        var renewed = (await Keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey())).Value;

        Assert.NotEqual(issued.Key, renewed.Key);
        Assert.Equal(issued.Id, renewed.Id);
        Assert.Equal(issued.Name, renewed.Name);
        Assert.Equal(issued.Scopes, renewed.Scopes);
        Assert.False((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        var check = await Keys.AuthenticateAsync(renewed.Key);
        Assert.True(check.IsValid);
        Assert.Equal(issued.Id, check.Identity!.KeyId);
    }

    [Fact]
    public async Task Regenerate_WithGrace_OldSecretWorksUntilTheGraceEnds()
    {
        var (actor, issued) = await IssueAsync();
        var renewed = (await Keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey { GracePeriodMinutes = 60 })).Value;
        Assert.Equal(_db.Clock.GetUtcNow().AddMinutes(60), renewed.PreviousSecretValidUntil);

        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.True((await Keys.AuthenticateAsync(renewed.Key)).IsValid);
        _db.Clock.Advance(TimeSpan.FromMinutes(60) - TimeSpan.FromTicks(1));
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        _db.Clock.Advance(TimeSpan.FromTicks(1));
        Assert.False((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.True((await Keys.AuthenticateAsync(renewed.Key)).IsValid);
    }

    [Fact]
    public async Task Regenerate_SixAtOnce_OnADatabaseFile_ExactlyOneWins_TheOthersAreConflicts_OnlyTheWinnersSecretWorks()
    {
        // Every racer reads the key before any writes (the gate), as six parallel requests may: before, all six
        // "succeeded" with six secrets, of which only the last written worked.
        var gate = new TransactionGate(racers: 6);
        await using var db = await TestDatabase.CreateAsync(gate.AddTo, onFile: true);
        var keys = db.Get<ApiKeyService>();
        var (_, actor) = await db.CreateUserAsync(Roles.Developer);
        var issued = (await keys.CreateAsync(actor, NewKey("raced"))).Value;

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            gate.RunAsync(() => keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey()))));

        Assert.Equal(6, gate.Held);
        var winner = Assert.Single(results, r => r.IsSuccess).Value;
        Assert.All(results.Where(r => !r.IsSuccess), r =>
            Assert.Equal("The key was regenerated by another request; try again.", Assert.IsType<KeyRegeneratedMeanwhile>(r.Error).Detail));
        Assert.True((await keys.AuthenticateAsync(winner.Key)).IsValid);
        Assert.Equal(KeyCheckCode.NotFound, (await keys.AuthenticateAsync(issued.Key)).Code);
        Assert.Equal(winner.MaskedKey, (await keys.GetAsync(actor, issued.Id)).Value.MaskedKey);
        await using var context = await db.OpenAsync();
        Assert.Equal(1, await context.Audit.CountAsync(a => a.Action == AuditActions.ApiKeyRegenerated));
    }

    [Fact]
    public async Task Regenerate_WhenARevokeLandsBetweenItsReadAndItsWrite_IsNotActive_AndIssuesNoSecret()
    {
        Actor actor = null!;
        ApiKeyIssued issued = null!;
        ApiKeyService keys = null!;
        var gate = new TransactionGate(racers: 1, meanwhile: async () => Assert.True((await keys.RevokeAsync(actor, issued.Id)).IsSuccess));
        await using var db = await TestDatabase.CreateAsync(gate.AddTo, onFile: true);
        keys = db.Get<ApiKeyService>();
        actor = (await db.CreateUserAsync(Roles.Developer)).Actor;
        issued = (await keys.CreateAsync(actor, NewKey("raced"))).Value;

        var result = await gate.RunAsync(() => keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey()));

        Assert.Equal(ApiKeyStatus.Revoked, Assert.IsType<KeyNotActive>(result.Error).Status);
        Assert.Equal(issued.MaskedKey, (await keys.GetAsync(actor, issued.Id)).Value.MaskedKey);
        await using var context = await db.OpenAsync();
        Assert.Equal(0, await context.Audit.CountAsync(a => a.Action == AuditActions.ApiKeyRegenerated));
    }

    [Fact]
    public async Task Regenerate_GraceLongerThanSevenDays_IsInvalid()
    {
        var (actor, issued) = await IssueAsync();
        var result = await Keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey { GracePeriodMinutes = RegenerateApiKey.MaxGraceMinutes + 1 });
        Assert.IsType<ValidationError>(result.Error);
    }

    [Fact]
    public async Task Revoke_DuringGrace_StopsBothSecrets()
    {
        var (actor, issued) = await IssueAsync();
        var renewed = (await Keys.RegenerateAsync(actor, issued.Id, new RegenerateApiKey { GracePeriodMinutes = 60 })).Value;
        await Keys.RevokeAsync(actor, issued.Id);
        Assert.False((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.False((await Keys.AuthenticateAsync(renewed.Key)).IsValid);
    }

    [Fact]
    public async Task Delete_CachedKey_RefusedOnTheNextCheck()
    {
        var (actor, issued) = await IssueAsync();
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.True((await Keys.DeleteAsync(actor, issued.Id)).IsSuccess);
        Assert.Equal(KeyCheckCode.NotFound, (await Keys.AuthenticateAsync(issued.Key)).Code);
        Assert.IsType<NotFoundError>((await Keys.GetAsync(actor, issued.Id)).Error);
    }

    [Fact]
    public async Task OwnerDeactivated_CachedKey_RefusedOnTheNextCheck()
    {
        var (actor, issued) = await IssueAsync();
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        await _db.Get<UserService>().UpdateAsync(await _db.RootAsync(), actor.UserId, new UpdateUser { Status = UserStatus.Inactive });
        Assert.Equal(KeyCheckCode.Disabled, (await Keys.AuthenticateAsync(issued.Key)).Code);
    }

    [Fact]
    public async Task OwnerRolesChanged_CachedKey_CarriesTheNewRolesOnTheNextCheck()
    {
        var (actor, issued) = await IssueAsync(Roles.Admin, null, Scopes.Read);
        Assert.Equal([Roles.Admin], (await Keys.AuthenticateAsync(issued.Key)).Identity!.Roles);
        await _db.Get<UserService>().UpdateAsync(await _db.RootAsync(), actor.UserId, new UpdateUser { Roles = [Roles.ReadOnly] });
        Assert.Equal([Roles.ReadOnly], (await Keys.AuthenticateAsync(issued.Key)).Identity!.Roles);
    }

    [Fact]
    public async Task OwnerDeleted_KeysGoWithThem()
    {
        var (actor, issued) = await IssueAsync();
        Assert.True((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        Assert.True((await _db.Get<UserService>().DeleteAsync(await _db.RootAsync(), actor.UserId)).IsSuccess);
        Assert.False((await Keys.AuthenticateAsync(issued.Key)).IsValid);
        await using var db = await _db.OpenAsync();
        Assert.False(await db.ApiKeys.AnyAsync(k => k.Id == issued.Id));
    }

    [Theory]
    [InlineData(Roles.Developer, Scopes.Admin)]
    [InlineData(Roles.ReadOnly, Scopes.Write)]
    [InlineData(Roles.ReadOnly, Scopes.Admin)]
    public async Task Create_ScopeBeyondTheOwnersRoles_IsInvalid(string role, string scope)
    {
        var (owner, _) = await _db.CreateUserAsync(role);
        var result = await Keys.CreateAsync(await _db.RootAsync(), new CreateApiKey { Name = "k", Scopes = [Scopes.Read, scope], OwnerId = owner.Id });
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Contains("scopes", error.Errors.Keys);
    }

    [Theory]
    [InlineData(Roles.SuperAdmin, "read,write,admin")]
    [InlineData(Roles.Admin, "read,write,admin")]
    [InlineData(Roles.Developer, "read,write")]
    [InlineData(Roles.ReadOnly, "read")]
    public void ScopesAllowedFor_EachRole(string role, string expected) =>
        Assert.Equal(expected, string.Join(',', ApiKeyService.ScopesAllowedFor([role])));

    [Fact]
    public async Task Create_ReadOnlyChangesNothing_ButAnAdminMayGiveThemAReadKey()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.ReadOnly);
        Assert.IsType<ForbiddenError>((await Keys.CreateAsync(actor, NewKey("audit", Scopes.Read))).Error);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var issued = await Keys.CreateAsync(admin, new CreateApiKey { Name = "audit", Scopes = [Scopes.Read], OwnerId = user.Id });
        Assert.True(issued.IsSuccess);
        Assert.True((await Keys.AuthenticateAsync(issued.Value.Key)).IsValid);
    }

    [Fact]
    public async Task Create_ThroughAKey_CannotMintAStrongerKey()
    {
        var (user, _) = await _db.CreateUserAsync(Roles.Admin);
        var keyActor = new Actor(user.Id, user.Email, user.Roles, [Scopes.Read, Scopes.Write]);
        var result = await Keys.CreateAsync(keyActor, NewKey("escalate", Scopes.Admin));
        Assert.IsType<ForbiddenError>(result.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Create_WithoutName_IsInvalid(string name)
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var error = Assert.IsType<ValidationError>((await Keys.CreateAsync(actor, NewKey(name))).Error);
        Assert.Contains("name", error.Errors.Keys);
    }

    [Fact]
    public async Task Create_NameTooLong_NoScopes_UnknownScope_AreInvalid()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ValidationError>((await Keys.CreateAsync(actor, NewKey(new string('n', 101)))).Error);
        Assert.IsType<ValidationError>((await Keys.CreateAsync(actor, new CreateApiKey { Name = "x", Scopes = [] })).Error);
        Assert.IsType<ValidationError>((await Keys.CreateAsync(actor, NewKey("x", "delete"))).Error);
    }

    [Fact]
    public async Task Create_ExpiryInThePast_IsInvalid()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var request = NewKey();
        request.ExpiresAt = _db.Clock.GetUtcNow().AddSeconds(-1);
        var error = Assert.IsType<ValidationError>((await Keys.CreateAsync(actor, request)).Error);
        Assert.Contains("expiresAt", error.Errors.Keys);
    }

    [Fact]
    public async Task Create_DuplicateNameForTheSameOwner_IsConflict_OtherOwnerMayReuseIt()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var (_, other) = await _db.CreateUserAsync(Roles.Developer);
        Assert.True((await Keys.CreateAsync(actor, NewKey("ci"))).IsSuccess);
        Assert.IsType<DuplicateKeyName>((await Keys.CreateAsync(actor, NewKey("ci"))).Error);
        Assert.True((await Keys.CreateAsync(other, NewKey("ci"))).IsSuccess);
    }

    [Fact]
    public async Task Create_ForAnotherUser_AdminMay_DeveloperMayNot()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var (target, _) = await _db.CreateUserAsync(Roles.Developer);

        var byAdmin = await Keys.CreateAsync(admin, new CreateApiKey { Name = "assigned", Scopes = [Scopes.Read], OwnerId = target.Id });
        Assert.True(byAdmin.IsSuccess);
        Assert.Equal(target.Id, byAdmin.Value.OwnerId);
        Assert.Equal(target.Email, byAdmin.Value.OwnerEmail);
        var byDeveloper = await Keys.CreateAsync(developer, new CreateApiKey { Name = "x", Scopes = [Scopes.Read], OwnerId = target.Id });
        Assert.IsType<ForbiddenError>(byDeveloper.Error);
    }

    [Theory]
    [InlineData(Roles.Developer)]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Admin)]
    public async Task Create_ForAnotherUser_AnAdminMay_WhenTheirRolesGrantNothingBeyondTheAdmins(string ownerRole)
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin, scopes: Scopes.All);
        var (owner, _) = await _db.CreateUserAsync(ownerRole);

        var result = await Keys.CreateAsync(admin, new CreateApiKey { Name = "assigned", Scopes = [Scopes.Read], OwnerId = owner.Id });

        Assert.True(result.IsSuccess, result.Error?.Detail);
    }

    [Fact]
    public async Task Create_ForASuperAdmin_ByAnAdmin_IsForbidden_AndIssuesNothing_ASuperAdminMay()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (_, adminKey) = await _db.CreateUserAsync(Roles.Admin, scopes: Scopes.All);
        var (superAdmin, _) = await _db.CreateUserAsync(Roles.SuperAdmin);
        var request = new CreateApiKey { Name = "escalate", Scopes = [.. Scopes.All], OwnerId = superAdmin.Id };

        foreach (var actor in new[] { admin, adminKey })
        {
            var refused = Assert.IsType<OwnerOutranksYou>((await Keys.CreateAsync(actor, request)).Error);
            Assert.Contains(superAdmin.Email, refused.Detail);
            Assert.Contains("grant more than yours", refused.Detail);
        }
        await using (var db = await _db.OpenAsync())
            Assert.False(await db.ApiKeys.AnyAsync(k => k.OwnerUserId == superAdmin.Id));
        Assert.True((await Keys.CreateAsync(await _db.RootAsync(), request)).IsSuccess);
    }

    [Fact]
    public async Task Regenerate_ASuperAdminsKey_ByAnAdmin_IsForbidden_TheSecretStays_RevokeAndDeleteStayAllowed()
    {
        var (superAdmin, superActor) = await _db.CreateUserAsync(Roles.SuperAdmin);
        var first = (await Keys.CreateAsync(superActor, NewKey("first", Scopes.Read, Scopes.Admin))).Value;
        var second = (await Keys.CreateAsync(superActor, NewKey("second", Scopes.Read))).Value;
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin, scopes: Scopes.All);

        var refused = Assert.IsType<OwnerOutranksYou>((await Keys.RegenerateAsync(admin, first.Id, new RegenerateApiKey())).Error);

        Assert.Contains(superAdmin.Email, refused.Detail);
        Assert.True((await Keys.AuthenticateAsync(first.Key)).IsValid);
        Assert.True((await Keys.RevokeAsync(admin, first.Id)).IsSuccess);
        Assert.False((await Keys.AuthenticateAsync(first.Key)).IsValid);
        Assert.True((await Keys.DeleteAsync(admin, second.Id)).IsSuccess);
        // Their own keys and another admin's stay the admin's to regenerate.
        var own = (await Keys.CreateAsync(admin, NewKey("own"))).Value;
        Assert.True((await Keys.RegenerateAsync(admin, own.Id, new RegenerateApiKey())).IsSuccess);
        var (_, otherAdmin) = await _db.CreateUserAsync(Roles.Admin);
        var theirs = (await Keys.CreateAsync(otherAdmin, NewKey("theirs"))).Value;
        Assert.True((await Keys.RegenerateAsync(admin, theirs.Id, new RegenerateApiKey())).IsSuccess);
    }

    [Fact]
    public async Task OwnersBeyond_NamesTheOwnersWhoseKeysTheActorMayNotRegenerate()
    {
        var root = await _db.RootAsync();
        var (_, superActor) = await _db.CreateUserAsync(Roles.SuperAdmin);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        foreach (var owner in new[] { superActor, admin, developer })
            await Keys.CreateAsync(owner, NewKey("k"));
        var all = (await Keys.ListAsync(root, new ApiKeyQuery())).Value.Items;

        Assert.Equal([superActor.UserId], await Keys.OwnersBeyondAsync(admin, all));
        Assert.Empty(await Keys.OwnersBeyondAsync(root, all));
        Assert.Empty(await Keys.OwnersBeyondAsync(developer, (await Keys.ListAsync(developer, new ApiKeyQuery())).Value.Items));
    }

    [Fact]
    public async Task OthersKeys_DeveloperSeesNotFound_ReadOnlySeesButCannotChange_AdminRevokes()
    {
        var (_, issued) = await IssueAsync();
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);

        Assert.IsType<NotFoundError>((await Keys.GetAsync(developer, issued.Id)).Error);
        Assert.IsType<NotFoundError>((await Keys.RevokeAsync(developer, issued.Id)).Error);
        Assert.Empty((await Keys.ListAsync(developer, new ApiKeyQuery())).Value.Items);

        Assert.True((await Keys.GetAsync(readOnly, issued.Id)).IsSuccess);
        Assert.IsType<ForbiddenError>((await Keys.RevokeAsync(readOnly, issued.Id)).Error);
        Assert.IsType<ForbiddenError>((await Keys.DeleteAsync(readOnly, issued.Id)).Error);

        Assert.True((await Keys.RevokeAsync(admin, issued.Id)).IsSuccess);
        Assert.False((await Keys.AuthenticateAsync(issued.Key)).IsValid);
    }

    [Fact]
    public async Task List_FiltersByStatusSearchAndOwner_AndPages()
    {
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        var now = _db.Clock.GetUtcNow();
        for (var i = 0; i < 5; i++) await Keys.CreateAsync(actor, NewKey($"build-{i}"));
        var expiring = NewKey("soon");
        expiring.ExpiresAt = now.AddMinutes(5);
        await Keys.CreateAsync(actor, expiring);
        var revoked = (await Keys.CreateAsync(actor, NewKey("old"))).Value;
        await Keys.RevokeAsync(actor, revoked.Id);
        _db.Clock.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(7, (await Keys.ListAsync(actor, new ApiKeyQuery())).Value.Total);
        Assert.Equal(5, (await Keys.ListAsync(actor, new ApiKeyQuery { Status = ApiKeyStatus.Active })).Value.Total);
        Assert.Equal("soon", Assert.Single((await Keys.ListAsync(actor, new ApiKeyQuery { Status = ApiKeyStatus.Expired })).Value.Items).Name);
        Assert.Equal("old", Assert.Single((await Keys.ListAsync(actor, new ApiKeyQuery { Status = ApiKeyStatus.Revoked })).Value.Items).Name);
        Assert.Equal(5, (await Keys.ListAsync(actor, new ApiKeyQuery { Search = "BUILD" })).Value.Total);
        var page = (await Keys.ListAsync(actor, new ApiKeyQuery { PageSize = 2, Page = 2, Sort = "name" })).Value;
        Assert.Equal(["build-2", "build-3"], page.Items.Select(k => k.Name));

        var root = await _db.RootAsync();
        await Keys.CreateAsync(root, NewKey("root-key"));
        Assert.Equal(8, (await Keys.ListAsync(root, new ApiKeyQuery())).Value.Total);
        Assert.Equal(7, (await Keys.ListAsync(root, new ApiKeyQuery { OwnerId = user.Id })).Value.Total);
    }

    [Fact]
    public async Task Metrics_CountKeysByStatus_AndCallsTodayFromRollups()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);
        var now = _db.Clock.GetUtcNow();
        var a = (await Keys.CreateAsync(actor, NewKey("a"))).Value;
        await Keys.CreateAsync(actor, NewKey("b"));
        var expiring = NewKey("c");
        expiring.ExpiresAt = now.AddMinutes(1);
        await Keys.CreateAsync(actor, expiring);
        var revoked = (await Keys.CreateAsync(actor, NewKey("d"))).Value;
        await Keys.RevokeAsync(actor, revoked.Id);
        _db.Clock.Advance(TimeSpan.FromMinutes(2));
        now = _db.Clock.GetUtcNow();
        await using (var db = await _db.OpenAsync())
        {
            var today = UsageWriter.HourOf(now);
            db.UsageRollups.AddRange(
                new UsageRollup { KeyId = a.Id, HourStart = today, Count = 40, Errors = 2 },
                new UsageRollup { KeyId = revoked.Id, HourStart = today.AddHours(-1), Count = 2 },
                new UsageRollup { KeyId = a.Id, HourStart = today.AddDays(-1), Count = 1000 },
                new UsageRollup { KeyId = Guid.NewGuid(), HourStart = today, Count = 7 });
            await db.SaveChangesAsync();
        }

        var metrics = (await Keys.MetricsAsync(actor)).Value;

        Assert.Equal(new ApiKeyMetrics(Total: 4, Active: 2, Expired: 1, Revoked: 1, CallsToday: 42), metrics);
    }

    [Fact]
    public async Task Usage_DailyAndHourlyBuckets_FromRollups()
    {
        var (actor, issued) = await IssueAsync();
        var now = _db.Clock.GetUtcNow();
        var hour = UsageWriter.HourOf(now);
        await using (var db = await _db.OpenAsync())
        {
            db.UsageRollups.AddRange(
                new UsageRollup { KeyId = issued.Id, HourStart = hour, Count = 5, Errors = 1 },
                new UsageRollup { KeyId = issued.Id, HourStart = hour.AddHours(-1), Count = 3 },
                new UsageRollup { KeyId = issued.Id, HourStart = hour.AddDays(-2), Count = 10 });
            await db.SaveChangesAsync();
        }

        var daily = (await Keys.UsageAsync(actor, issued.Id, new UsageQuery())).Value;
        Assert.Equal(18, daily.Total);
        Assert.Equal(1, daily.Errors);
        Assert.Equal("day", daily.Interval);
        Assert.Equal(30, daily.Buckets.Count);

        var hourly = (await Keys.UsageAsync(actor, issued.Id, new UsageQuery { Interval = "hour", From = hour.AddHours(-1), To = hour.AddHours(1) })).Value;
        Assert.Equal([3L, 5L], hourly.Buckets.Select(b => b.Count));

        Assert.IsType<ValidationError>((await Keys.UsageAsync(actor, issued.Id, new UsageQuery { Interval = "week" })).Error);
        Assert.IsType<NotFoundError>((await Keys.UsageAsync(actor, Guid.NewGuid(), new UsageQuery())).Error);
    }
}
