using Bunit;
using Portal.Core.Common;
using Portal.Tests.Support;
using Portal.Web.Components.Layout;

namespace Portal.Tests.Web.Layout;

/// <summary>The navigation drawer: the API reference for everyone; "Dashboard" only where / is the dashboard.</summary>
public sealed class NavMenuTests : PortalBunitContext
{
    [Theory]
    [InlineData(Roles.Developer, false)]
    [InlineData(Roles.ReadOnly, true)]
    [InlineData(Roles.Admin, true)]
    [InlineData(Roles.SuperAdmin, true)]
    public async Task Links_ForRole(string role, bool dashboard)
    {
        SignInAs((await Db.CreateUserAsync(role)).Actor);

        var links = Render<NavMenu>().FindAll("a").ToDictionary(a => a.TextContent.Trim(), a => a.GetAttribute("href"));

        Assert.Equal("/api-reference", links["API reference"]);
        Assert.DoesNotContain(links.Values, href => href == "/openapi/v1.json");
        Assert.Equal(dashboard, links.ContainsKey("Dashboard"));
        Assert.Equal("/applications", links["My Applications"]);
    }
}
