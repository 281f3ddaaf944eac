using Portal.Core.Data;

namespace Portal.Tests.Core.Architecture;

/// <summary>
/// Feature folders of Portal.Core use each other one way only, so each can be read (and changed) knowing only
/// those below it. A rule two features need lives with the one that owns the data (membership with Accounts) or
/// in Common; an entity everybody joins through stays with its feature.
/// </summary>
public sealed class FeatureDependencyTests
{
    /// <summary>
    /// The uses that still close cycles, each against the order the folders are meant to have, bottom first:
    /// Cluster, Audit, Organisation, Email, Users, Profile, Accounts, Applications, ApiKeys, Products, Gateway,
    /// Billing, Subscriptions, Usage, Verification, Notifications, Quotas, Webhooks. Each is a debt to pay down
    /// (an entity, rule or detail record kept in the feature that reads it rather than the one that writes it, a
    /// service that calls up into a feature instead of being called), never a place to add to: a use outside this list that closes a cycle fails the test,
    /// naming the way round, and an entry whose use is gone or closes no cycle any more fails it too.
    /// </summary>
    private static readonly HashSet<(string From, string To)> KnownCycleEdges =
    [
        // Membership (in Accounts) answers which applications an actor may see and change.
        ("Accounts", "Applications"),
        // An application's keys are issued with it and its registrations end with it.
        ("Applications", "ApiKeys"), ("Applications", "Subscriptions"),
        // Usage figures on the key pages.
        ("ApiKeys", "Usage"),
        // Plans: upstream routes, prices, what-if over demand, registrations and counters.
        ("Products", "Gateway"), ("Products", "Billing"), ("Products", "Subscriptions"), ("Products", "Usage"),
        // Statements count calls from the quota counters of registrations.
        ("Billing", "Subscriptions"), ("Billing", "Verification"),
        // A decision on a registration notifies the account's members.
        ("Subscriptions", "Notifications"),
    ];

    [Fact]
    public void CoreFeatures_UseEachOther_WithoutNewCycles()
    {
        var graph = FeatureGraph.Read(typeof(PortalDbContext).Assembly.Location, "Portal.Core.Features");

        var cycles = graph.Cycles(KnownCycleEdges);
        // A listed use that is gone, or that no longer closes a cycle, comes off the list: it only shrinks.
        var paidOff = KnownCycleEdges.Where(e => !graph.Uses(e.From, e.To) || !graph.Reaches(e.To, e.From)).Select(e => $"({e.From}, {e.To})").ToList();

        Assert.True(paidOff.Count == 0, "Listed as known cycle edges but closing no cycle: " + string.Join(", ", paidOff));
        Assert.True(cycles.Count == 0, "Feature folders of Portal.Core in a cycle:" + Environment.NewLine + string.Join(Environment.NewLine, cycles));
    }

    [Fact]
    public void CoreFeatures_AreAllRead_WithTheirUses()
    {
        var graph = FeatureGraph.Read(typeof(PortalDbContext).Assembly.Location, "Portal.Core.Features");

        // Folders that use others: the reader sees every one of them (a reader that sees nothing finds no cycle).
        Assert.Superset(new HashSet<string> { "Accounts", "ApiKeys", "Applications", "Subscriptions", "Usage", "Users", "Verification" }, graph.Features.ToHashSet());
        Assert.True(graph.Uses("Applications", "Subscriptions"), "ApplicationService.DeleteAsync ends the application's registrations.");
    }

    [Fact]
    public void Reader_FindsCycles_ThroughBodiesExpressionsAndStateMachines_NamingEachStep()
    {
        var graph = FeatureGraph.Read(typeof(FeatureDependencyTests).Assembly.Location, "Portal.Tests.Core.Architecture.Samples.Features");

        var cycle = Assert.Single(graph.Cycles());

        Assert.StartsWith("Left → Right → Left", cycle);
        Assert.Contains("Left → Right: LeftService.Wanted uses RightRules", cycle);
        Assert.Contains("Right → Left: RightRules.CountAsync uses LeftService", cycle);
        Assert.True(graph.Uses("Down", "Left"));
        Assert.False(graph.Uses("Left", "Down"));
    }
}
