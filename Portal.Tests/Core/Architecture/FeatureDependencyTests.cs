using Portal.Core.Data;

namespace Portal.Tests.Core.Architecture;

/// <summary>
/// Feature folders of Portal.Core use each other one way only, so each can be read (and changed) knowing only
/// those below it. A rule two features need lives with the one that owns the data (membership with Accounts) or
/// in Common; an entity several features join through (application, key, product and plan, registration, quota
/// counter) lives in Domain, which is no feature; a flow that spans features (sign-up) gets its own folder above
/// them; a feature that must reach one above it does so through a small interface it owns (IPersonalAccountStep,
/// IQuotaWatch).
/// </summary>
public sealed class FeatureDependencyTests
{
    [Fact]
    public void CoreFeatures_UseEachOther_WithoutCycles()
    {
        var graph = FeatureGraph.Read(typeof(PortalDbContext).Assembly.Location, "Portal.Core.Features");

        var cycles = graph.Cycles();

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
