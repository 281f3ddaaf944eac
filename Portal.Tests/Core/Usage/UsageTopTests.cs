using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

public sealed class UsageTopSqliteTests() : UsageTopTests(DatabaseProvider.Sqlite);

public sealed class UsageTopPostgresTests() : UsageTopTests(DatabaseProvider.PostgreSql);

/// <summary>
/// Top lists over a flat distribution (thousands of keys and applications with a few calls on some days each, no key
/// standing out), checked against a brute-force top 5 of the same tallies: where the per-bucket threshold algorithm
/// cannot prove its answer, the standard windows are exact through their precomputed part, and any other window says
/// it is approximate and stays honest.
/// </summary>
public abstract class UsageTopTests(DatabaseProvider provider) : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private readonly List<UsageTally> _tallies = [];

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(provider: provider);
        // 3,000 keys of 1,500 applications; each key calls on about a third of the last 30 days (and today until now),
        // 1 to 3 times at one hour of the day: ~32,000 key-days, none far above the others.
        var random = new Random(11);
        var now = _db.Clock.GetUtcNow();
        var today = UsageBuckets.Align(now, TimeSpan.FromDays(1));
        var applications = Enumerable.Range(0, 1_500).Select(_ => NewId(random)).ToArray();
        for (var k = 0; k < 3_000; k++)
        {
            var key = NewId(random);
            for (var d = -30; d <= 0; d++)
            {
                if (random.NextDouble() >= 0.35) continue;
                var hours = d == 0 ? (int)(now - today).TotalHours : 24;
                var hour = today.AddDays(d).AddHours(random.Next(hours));
                _tallies.Add(new UsageTally(hour, key, applications[k % applications.Length], null, null, random.Next(1, 4), 0));
            }
        }
        await using var db = await _db.OpenAsync();
        await UsageRollupWriter.AddAsync(db, _tallies);
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static Guid NewId(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }

    /// <summary>The top 5 of the tallies in [from, to), most first, ties by id as the databases order them.</summary>
    private List<(Guid, long)> BruteForce(DateTimeOffset from, DateTimeOffset to, Func<UsageTally, Guid> id) =>
        [.. Totals(from, to, id).Select(t => (t.Key, t.Value)).OrderByDescending(t => t.Value)
            .ThenBy(t => t.Key.ToString(), StringComparer.OrdinalIgnoreCase).Take(5)];

    private Dictionary<Guid, long> Totals(DateTimeOffset from, DateTimeOffset to, Func<UsageTally, Guid> id) =>
        _tallies.Where(t => t.Hour >= from && t.Hour < to).GroupBy(id).ToDictionary(g => g.Key, g => g.Sum(t => t.Calls));

    private static Guid Key(UsageTally t) => t.KeyId!.Value;
    private static Guid Application(UsageTally t) => t.ApplicationId!.Value;

    /// <summary>The overview's periods (as the /usage page asks for them) and the summary's default.</summary>
    private IEnumerable<UsageSummaryQuery> StandardWindows()
    {
        var now = _db.Clock.GetUtcNow();
        var today = UsageBuckets.Align(now, TimeSpan.FromDays(1));
        yield return new UsageSummaryQuery { From = UsageBuckets.Align(now, TimeSpan.FromHours(1)).AddHours(-23), To = now };
        yield return new UsageSummaryQuery();
        yield return new UsageSummaryQuery { From = today.AddDays(-29), To = now };
    }

    [Fact]
    public async Task FlatThirtyDays_WithoutAPrecomputedPart_IsApproximateAndHonest()
    {
        var today = UsageBuckets.Align(_db.Clock.GetUtcNow(), TimeSpan.FromDays(1));
        var (from, to) = (today.AddDays(-30), today.AddDays(1));
        await using var db = await _db.OpenAsync();
        foreach (var (source, id) in new[] { (UsageTop.KeyDays, (Func<UsageTally, Guid>)Key), (UsageTop.Applications(UsageSpan.Day), Application) })
        {
            var top = await UsageTop.TopAsync(db, source, from, to, TimeSpan.FromDays(1), 5, TestContext.Current.CancellationToken);
            // Thirty-one days whose K-th counts add up far above any total: the budget runs out before a proof.
            Assert.NotNull(top.Bound);
            var totals = Totals(from, to, id);
            Assert.Equal(5, top.Items.Count);
            // Each listed total is the exact total, most first; nobody left out has more than the bound says.
            Assert.All(top.Items, i => Assert.Equal(totals[i.Id], i.Calls));
            Assert.Equal(top.Items.OrderByDescending(i => i.Calls), top.Items);
            Assert.All(totals.Where(t => !top.Items.Any(i => i.Id == t.Key)), t => Assert.True(t.Value <= top.Bound));
        }
    }

    [Fact]
    public async Task FlatSevenDays_FewRows_IsExactWithoutAPrecomputedPart()
    {
        var today = UsageBuckets.Align(_db.Clock.GetUtcNow(), TimeSpan.FromDays(1));
        var (from, to) = (today.AddDays(-6), today.AddDays(1));
        await using var db = await _db.OpenAsync();
        // About 7,000 key-days: within the rows a window may read whole.
        var top = await UsageTop.TopAsync(db, UsageTop.KeyDays, from, to, TimeSpan.FromDays(1), 5, TestContext.Current.CancellationToken);
        Assert.Null(top.Bound);
        Assert.Equal(BruteForce(from, to, Key), top.Items);
        // The same window with less allowed: no longer proven, still honest.
        var tight = await UsageTop.TopAsync(db, UsageTop.KeyDays, from, to, TimeSpan.FromDays(1), 5, TestContext.Current.CancellationToken,
            limits: new UsageTop.Limits(RowBudget: 100, SmallWindowRows: 100));
        Assert.NotNull(tight.Bound);
        var totals = Totals(from, to, Key);
        Assert.All(tight.Items, i => Assert.Equal(totals[i.Id], i.Calls));
        Assert.All(totals.Where(t => !tight.Items.Any(i => i.Id == t.Key)), t => Assert.True(t.Value <= tight.Bound));
    }

    [Fact]
    public async Task FlatStandardWindows_WithTheirPrecomputedPart_EqualTheBruteForceTop()
    {
        Assert.Equal(9, await _db.Get<UsageTopBases>().RefreshAsync(TestContext.Current.CancellationToken));
        var admin = await _db.RootAsync();
        foreach (var query in StandardWindows())
        {
            var summary = (await _db.Get<UsageService>().SummaryAsync(admin, query, TestContext.Current.CancellationToken)).Value;
            Assert.Null(summary.TopBounds);
            Assert.Equal(BruteForce(summary.From, summary.To, Key), summary.TopKeys.Select(t => (t.Id, t.Calls)));
            Assert.Equal(BruteForce(summary.From, summary.To, Application), summary.TopApplications.Select(t => (t.Id, t.Calls)));
        }
        // Nothing changed: a second pass computes nothing.
        Assert.Equal(0, await _db.Get<UsageTopBases>().RefreshAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task LateWriteIntoAClosedDay_IsNeverHiddenByTheStalePrecomputedPart()
    {
        var bases = _db.Get<UsageTopBases>();
        await bases.RefreshAsync(TestContext.Current.CancellationToken);
        var admin = await _db.RootAsync();
        var today = UsageBuckets.Align(_db.Clock.GetUtcNow(), TimeSpan.FromDays(1));
        // A batch that arrives late, for yesterday: one key now far ahead of all.
        var late = new UsageTally(today.AddDays(-1).AddHours(5), Guid.NewGuid(), null, null, null, 1_000, 0);
        _tallies.Add(late);
        await using (var db = await _db.OpenAsync()) await UsageRollupWriter.AddAsync(db, [late]);

        var month = new UsageSummaryQuery { From = today.AddDays(-29), To = _db.Clock.GetUtcNow() };
        var summary = (await _db.Get<UsageService>().SummaryAsync(admin, month, TestContext.Current.CancellationToken)).Value;
        Assert.Equal((late.KeyId!.Value, 1_000L), (summary.TopKeys[0].Id, summary.TopKeys[0].Calls));
        var totals = Totals(summary.From, summary.To, Key);
        Assert.All(summary.TopKeys, k => Assert.Equal(totals[k.Id], k.Calls));
        if (summary.TopBounds?.Keys is { } bound)
            Assert.All(totals.Where(t => !summary.TopKeys.Any(k => k.Id == t.Key)), t => Assert.True(t.Value <= bound));
        else
            Assert.Equal(BruteForce(summary.From, summary.To, Key), summary.TopKeys.Select(t => (t.Id, t.Calls)));

        // The next pass computes the parts that hold yesterday again; the top is exact once more.
        Assert.True(await bases.RefreshAsync(TestContext.Current.CancellationToken) > 0);
        summary = (await _db.Get<UsageService>().SummaryAsync(admin, month, TestContext.Current.CancellationToken)).Value;
        Assert.Null(summary.TopBounds);
        Assert.Equal(BruteForce(summary.From, summary.To, Key), summary.TopKeys.Select(t => (t.Id, t.Calls)));
    }
}
