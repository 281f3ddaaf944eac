using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Data;

/// <summary>
/// Search by part of a name through the trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL): found in any case,
/// kept right through inserts, renames and deletes by the database itself, hostile text matched literally, and terms
/// too short for a trigram still answered.
/// </summary>
public abstract class NameSearchTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _root = null!;
    // Letters no other row of the test database carries, so every search below has one answer.
    private readonly string _u = string.Concat(Guid.NewGuid().ToString("N").Where(char.IsLetter).Take(5)).PadRight(5, 'q') + "zx";

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(provider: provider);
        _root = await _db.RootAsync();
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private async Task<IReadOnlyList<string>> ApplicationsAsync(string search) =>
        (await _db.Get<ApplicationService>().ListAsync(_root, new ApplicationQuery { Search = search })).Value.Items.Select(a => a.Name).ToList();

    [Fact]
    public async Task Applications_AreFoundByPartOfTheirName_OrOfTheirAccountsName_InAnyCase()
    {
        var (user, developer) = await _db.CreateUserAsync(Roles.Developer);
        var account = (await _db.Get<AccountService>().CreateAsync(_root, new CreateAccount { Name = $"Team Kestrel{_u}" })).Value;
        Assert.True((await _db.Get<AccountService>().AddMemberAsync(_root, account.Id, user.Id)).IsSuccess);
        var created = await _db.Get<ApplicationService>().CreateAsync(developer,
            new CreateApplication { Name = $"Weather Feed {_u.ToUpperInvariant()} Live", AccountId = account.Id });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var name = created.Value.Application.Name;

        Assert.Equal([name], await ApplicationsAsync($"feed {_u}"));
        Assert.Equal([name], await ApplicationsAsync($"{_u} LIVE"));
        Assert.Equal([name], await ApplicationsAsync($"kestrel{_u}"));
        Assert.Empty(await ApplicationsAsync($"feed {_u} dead"));
    }

    [Fact]
    public async Task ARenamedOrDeletedApplication_IsFoundByItsNewName_AndNotByTheOldOne()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var apps = _db.Get<ApplicationService>();
        var id = (await apps.CreateAsync(developer, new CreateApplication { Name = $"Before {_u}" })).Value.Application.Id;

        Assert.True((await apps.UpdateAsync(developer, id, new UpdateApplication { Name = $"After {_u}" })).IsSuccess);
        Assert.Empty(await ApplicationsAsync($"before {_u}"));
        Assert.Equal([$"After {_u}"], await ApplicationsAsync($"after {_u}"));

        // A change of another column leaves the index as it is.
        Assert.True((await apps.UpdateAsync(developer, id, new UpdateApplication { Description = "Only the description" })).IsSuccess);
        Assert.Equal([$"After {_u}"], await ApplicationsAsync($"after {_u}"));

        Assert.True((await apps.DeleteAsync(developer, id)).IsSuccess);
        Assert.Empty(await ApplicationsAsync(_u));
    }

    [Fact]
    public async Task Keys_AreFoundByPartOfTheirNameOrDescription()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var keys = _db.Get<ApiKeyService>();
        var created = await keys.CreateAsync(developer,
            new CreateApiKey { Name = $"deploy-{_u}", Description = $"Used by the nightly {_u}-release job", Scopes = [Scopes.Read] });
        Assert.True(created.IsSuccess, created.Error?.Detail);

        async Task<IReadOnlyList<Guid>> Find(string search) =>
            (await keys.ListAsync(_root, new ApiKeyQuery { Search = search })).Value.Items.Select(k => k.Id).ToList();
        Assert.Equal([created.Value.Id], await Find($"PLOY-{_u}"));
        Assert.Equal([created.Value.Id], await Find($"{_u}-RELEASE"));
        Assert.Empty(await Find($"{_u}-nothing"));
    }

    [Fact]
    public async Task UsersAndAccounts_AreFoundByPartOfTheirNames()
    {
        var created = await _db.Get<UserService>().CreateAsync(_root, new CreateUser
        {
            Email = $"ada.{_u}@example.test", DisplayName = $"Ada {_u} Lovelace", Password = "Passw0rd!", Roles = [Roles.Developer],
        });
        Assert.True(created.IsSuccess, created.Error?.Detail);
        var account = (await _db.Get<AccountService>().CreateAsync(_root, new CreateAccount { Name = $"Analytical {_u} Engines" })).Value;

        async Task<IReadOnlyList<Guid>> Users(string search) =>
            (await _db.Get<UserService>().ListAsync(_root, new UserQuery { Search = search })).Value.Items.Select(u => u.Id).ToList();
        Assert.Equal([created.Value.Id], await Users($"A.{_u.ToUpperInvariant()}@EXAMPLE"));
        Assert.Equal([created.Value.Id], await Users($"{_u} lovelace"));

        var accounts = (await _db.Get<AccountService>().ListAsync(_root, new AccountQuery { Search = $"{_u} ENGINES" })).Value.Items;
        Assert.Equal(account.Id, Assert.Single(accounts).Id);
    }

    [Theory]
    [InlineData("0% _r", true)]
    [InlineData("\"quoted\"", true)]
    [InlineData("it's", true)]
    [InlineData(@"a\b", true)]
    [InlineData("0%%", false)]
    [InlineData("e_l", false)]
    [InlineData("\" OR \"", false)]
    [InlineData("quoted*", false)]
    public async Task HostileText_IsMatchedLiterally(string search, bool found)
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var name = $"{_u} 100% _real_ \"quoted\" it's a\\b";
        Assert.True((await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = name })).IsSuccess);

        var result = await _db.Get<ApplicationService>().ListAsync(_root, new ApplicationQuery { Search = search });

        Assert.True(result.IsSuccess, result.Error?.Detail);
        Assert.Equal(found, result.Value.Items.Any(a => a.Name == name));
    }

    [Fact]
    public async Task ATermTooShortForATrigram_IsStillAnswered()
    {
        var (_, developer) = await _db.CreateUserAsync(Roles.Developer);
        var name = $"{_u} Qj";
        Assert.True((await _db.Get<ApplicationService>().CreateAsync(developer, new CreateApplication { Name = name })).IsSuccess);

        Assert.Contains(name, await ApplicationsAsync("qJ"));
    }
}

public sealed class SqliteNameSearchTests() : NameSearchTests(DatabaseProvider.Sqlite);

public sealed class PostgresNameSearchTests() : NameSearchTests(DatabaseProvider.PostgreSql);
