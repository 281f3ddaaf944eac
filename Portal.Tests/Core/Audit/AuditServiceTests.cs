using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Audit;

public sealed class AuditServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private AuditService Audit => _db.Get<AuditService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    /// <summary>Writes entries one minute apart, so their order is the order given.</summary>
    private async Task<List<AuditEntry>> SeedAsync(params (string Email, string Action)[] entries)
    {
        var written = new List<AuditEntry>();
        await using var db = await _db.OpenAsync();
        foreach (var (email, action) in entries)
        {
            _db.Clock.Advance(TimeSpan.FromMinutes(1));
            var entry = AuditEntry.For(new Actor(Guid.NewGuid(), email, [Roles.Admin], IpAddress: "10.0.0.1"), action, _db.Clock.GetUtcNow(), "user", null, "target");
            db.Audit.Add(entry);
            written.Add(entry);
        }
        await db.SaveChangesAsync();
        return written;
    }

    // The bootstrap writes nothing the filters below look for, but restricting by a test-only domain keeps the counts exact.
    private static AuditQuery Ours(AuditQuery? query = null) => (query ?? new AuditQuery()) with { Actor = query?.Actor ?? "@audit.test" };

    [Theory]
    [InlineData(Roles.SuperAdmin)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    public async Task List_AsAuditReader_Succeeds(string role)
    {
        var (_, actor) = await _db.CreateUserAsync(role);
        Assert.True((await Audit.ListAsync(actor, new AuditQuery())).IsSuccess);
    }

    [Fact]
    public async Task List_AsDeveloper_IsForbidden()
    {
        var (_, dev) = await _db.CreateUserAsync(Roles.Developer);
        Assert.IsType<ForbiddenError>((await Audit.ListAsync(dev, new AuditQuery())).Error);
    }

    [Fact]
    public async Task List_NewestFirst_AndOldestFirstWithSortAt()
    {
        var seeded = await SeedAsync(("a@audit.test", AuditActions.UserCreated), ("b@audit.test", AuditActions.UserUpdated), ("c@audit.test", AuditActions.UserDeleted));
        var root = await _db.RootAsync();

        var newest = (await Audit.ListAsync(root, Ours())).Value;
        Assert.Equal(seeded.Select(e => e.Id).Reverse(), newest.Items.Select(e => e.Id));

        var oldest = (await Audit.ListAsync(root, Ours(new AuditQuery { Sort = "at" }))).Value;
        Assert.Equal(seeded.Select(e => e.Id), oldest.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task List_Pages_ReportTotalAndSlice()
    {
        var seeded = await SeedAsync(Enumerable.Range(0, 7).Select(i => ($"u{i}@audit.test", AuditActions.UserUpdated)).ToArray());
        var root = await _db.RootAsync();

        var page2 = (await Audit.ListAsync(root, Ours(new AuditQuery { Page = 2, PageSize = 3 }))).Value;

        Assert.Equal(7, page2.Total);
        Assert.Equal(2, page2.Page);
        Assert.Equal(3, page2.PageSize);
        // Newest first: page 2 holds the 4th..6th newest, i.e. seeded[3], [2], [1].
        Assert.Equal(new[] { seeded[3].Id, seeded[2].Id, seeded[1].Id }, page2.Items.Select(e => e.Id));
        var page3 = (await Audit.ListAsync(root, Ours(new AuditQuery { Page = 3, PageSize = 3 }))).Value;
        Assert.Equal(seeded[0].Id, Assert.Single(page3.Items).Id);
    }

    [Fact]
    public async Task List_ActorFilter_MatchesEmailSubstringInAnyCase()
    {
        await SeedAsync(("ada@audit.test", AuditActions.UserCreated), ("grace@audit.test", AuditActions.UserCreated), ("adam@audit.test", AuditActions.UserCreated));
        var root = await _db.RootAsync();

        var result = (await Audit.ListAsync(root, new AuditQuery { Actor = "ADA" })).Value;

        Assert.Equal(["adam@audit.test", "ada@audit.test"], result.Items.Select(e => e.Actor));
    }

    [Fact]
    public async Task List_ActorFilter_ByUserIdMatchesThatActorOnly()
    {
        var seeded = await SeedAsync(("ada@audit.test", AuditActions.UserCreated), ("bob@audit.test", AuditActions.UserUpdated), ("ada@audit.test", AuditActions.UserDeleted));
        var result = (await Audit.ListAsync(await _db.RootAsync(), new AuditQuery { Actor = $" {seeded[1].ActorId} " })).Value;
        Assert.Equal(seeded[1].Id, Assert.Single(result.Items).Id);
    }

    [Fact]
    public async Task List_ActionFilter_AWebhookEventTypeMatchesTheActionsThatRaiseIt()
    {
        var seeded = await SeedAsync(("a@audit.test", AuditActions.ApiKeyCreated), ("b@audit.test", AuditActions.ApplicationKeyCreated),
            ("c@audit.test", AuditActions.ApiKeyRevoked), ("d@audit.test", AuditActions.UserCreated));

        var result = (await Audit.ListAsync(await _db.RootAsync(), Ours(new AuditQuery { Action = "api_key.created" }))).Value;

        Assert.Equal([seeded[1].Id, seeded[0].Id], result.Items.Select(e => e.Id));
        Assert.Equal([seeded[3].Id], (await Audit.ListAsync(await _db.RootAsync(), Ours(new AuditQuery { Action = "user.created" }))).Value.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task List_ActionFilter_ExactNameMatchesOnlyThatAction()
    {
        await SeedAsync(("a@audit.test", AuditActions.SignInSucceeded), ("a@audit.test", AuditActions.SignInFailed), ("a@audit.test", AuditActions.UserCreated));
        var root = await _db.RootAsync();

        var result = (await Audit.ListAsync(root, Ours(new AuditQuery { Action = AuditActions.SignInSucceeded }))).Value;

        Assert.Equal(AuditActions.SignInSucceeded, Assert.Single(result.Items).Action);
    }

    [Fact]
    public async Task List_ActionFilter_PrefixEndingInDotMatchesTheGroup()
    {
        await SeedAsync(("a@audit.test", AuditActions.UserCreated), ("a@audit.test", AuditActions.SignInFailed),
            ("a@audit.test", AuditActions.UserDeleted), ("a@audit.test", AuditActions.OrganisationUpdated));
        var root = await _db.RootAsync();

        var users = (await Audit.ListAsync(root, Ours(new AuditQuery { Action = "user." }))).Value;
        Assert.Equal([AuditActions.UserDeleted, AuditActions.UserCreated], users.Items.Select(e => e.Action));

        var auth = (await Audit.ListAsync(root, Ours(new AuditQuery { Action = "auth." }))).Value;
        Assert.Equal(AuditActions.SignInFailed, Assert.Single(auth.Items).Action);

        // Without the trailing dot a group name is an exact action name, which does not exist.
        Assert.Empty((await Audit.ListAsync(root, Ours(new AuditQuery { Action = "user" }))).Value.Items);
    }

    [Fact]
    public async Task List_DateRange_IsInclusiveAtBothEnds()
    {
        var root = await _db.RootAsync();
        var start = _db.Clock.GetUtcNow();
        var early = await SeedAsync(("early@audit.test", AuditActions.UserCreated));
        _db.Clock.Advance(TimeSpan.FromDays(2));
        var middle = await SeedAsync(("middle@audit.test", AuditActions.UserCreated));
        _db.Clock.Advance(TimeSpan.FromDays(2));
        await SeedAsync(("late@audit.test", AuditActions.UserCreated));

        var from = middle[0].At;
        var to = middle[0].At;
        var exact = (await Audit.ListAsync(root, Ours(new AuditQuery { From = from, To = to }))).Value;
        Assert.Equal("middle@audit.test", Assert.Single(exact.Items).Actor);

        var sinceStart = (await Audit.ListAsync(root, Ours(new AuditQuery { From = start, To = middle[0].At.AddHours(1) }))).Value;
        Assert.Equal(["middle@audit.test", "early@audit.test"], sinceStart.Items.Select(e => e.Actor));

        var onlyFrom = (await Audit.ListAsync(root, Ours(new AuditQuery { From = early[0].At.AddTicks(1) }))).Value;
        Assert.Equal(["late@audit.test", "middle@audit.test"], onlyFrom.Items.Select(e => e.Actor));
    }

    [Fact]
    public async Task List_DateRange_ComparesInstantsAcrossOffsets()
    {
        var seeded = await SeedAsync(("tz@audit.test", AuditActions.UserCreated));
        var at = seeded[0].At;
        var inPlusTwo = at.ToOffset(TimeSpan.FromHours(2));

        var result = (await Audit.ListAsync(await _db.RootAsync(), Ours(new AuditQuery { From = inPlusTwo, To = inPlusTwo }))).Value;

        Assert.Single(result.Items);
    }

    [Fact]
    public async Task List_FromAfterTo_IsValidationErrorOnFrom()
    {
        var now = _db.Clock.GetUtcNow();
        var result = await Audit.ListAsync(await _db.RootAsync(), new AuditQuery { From = now, To = now.AddDays(-1) });
        Assert.Contains("from", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task List_PageSizeOverMaximum_IsValidationError()
    {
        var result = await Audit.ListAsync(await _db.RootAsync(), new AuditQuery { PageSize = 500 });
        Assert.Contains("pageSize", Assert.IsType<ValidationError>(result.Error).Errors.Keys);
    }

    [Fact]
    public async Task List_FiltersCombine()
    {
        await SeedAsync(("ada@audit.test", AuditActions.UserCreated), ("ada@audit.test", AuditActions.SignInSucceeded), ("bob@audit.test", AuditActions.UserCreated));

        var result = (await Audit.ListAsync(await _db.RootAsync(), new AuditQuery { Actor = "ada", Action = "user." })).Value;

        var entry = Assert.Single(result.Items);
        Assert.Equal(("ada@audit.test", AuditActions.UserCreated), (entry.Actor, entry.Action));
        Assert.Equal("10.0.0.1", entry.IpAddress);
        Assert.Equal("target", entry.Target);
    }
}
