using Bunit;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Help;

namespace Portal.Tests.Web.Help;

/// <summary>/help: the words of the portal and seed 001's FAQ, answered with this portal's own limits.</summary>
public sealed class HelpPageTests : PortalBunitContext
{
    [Fact]
    public async Task ExplainsEachWord_AndAnswersEverySeedQuestion_WithThisPortalsLimits()
    {
        SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

        var cut = Render<HelpPage>();

        Assert.Equal("Help", cut.Find("h1").TextContent.Trim());
        foreach (var anchor in new[] { "portal-app", "api-key", "product", "plan", "registration" })
            Assert.NotNull(cut.Find($"#{anchor}[data-testid=help-{anchor}]"));
        var questions = cut.FindAll("[data-testid=help-faq-item] h3").Select(h => h.TextContent.Trim()).ToList();
        Assert.Equal(11, questions.Count);
        Assert.Contains("When will my WAITING registration be approved?", questions);
        Assert.Contains("Can I reapply for a REJECTED registration?", questions);
        // The limits are the configured ones (PortalOptions defaults here), not numbers written into the page.
        Assert.Equal("10", cut.Find("[data-testid=help-max-apps]").TextContent.Trim());
        Assert.Equal("5", cut.Find("[data-testid=help-max-keys]").TextContent.Trim());
        var links = cut.FindAll("a").Select(a => a.GetAttribute("href")).ToHashSet();
        Assert.Superset(new HashSet<string?> { "/applications", "/portal-apps", "/products", "/api-keys", "/help#faq" }, links);
        foreach (var status in new[] { "WAITING", "APPROVED", "REJECTED", "UNSUBSCRIBED" })
            Assert.Contains(status, cut.Find("[data-testid=help-statuses]").TextContent);
    }
}
