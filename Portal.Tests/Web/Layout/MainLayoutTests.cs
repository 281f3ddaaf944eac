using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Tests.Support;
using Portal.Web.Components.Layout;
using Portal.Web.Infrastructure;

namespace Portal.Tests.Web.Layout;

/// <summary>The layout's theme: the choice made last (the theme cookie) wins over the system's, and a toggle is remembered.</summary>
public sealed class MainLayoutTests : PortalBunitContext
{
    [Fact]
    public async Task DarkModeChosenBefore_OpensDark_AndTogglingRemembersLight()
    {
        SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        Services.GetRequiredService<CircuitClient>().DarkMode = true;

        var cut = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddContent(0, "page"))));

        // The dark palette, with a muted grey Secondary (MudBlazor's own is pink, which read like an error).
        Assert.Contains("--mud-palette-secondary: rgba(163,173,187,1);", cut.Markup);
        Assert.DoesNotContain("--mud-palette-secondary: rgba(95,107,122,1);", cut.Markup);
        cut.Find("button[aria-label='Toggle dark mode']").Click();

        cut.WaitForAssertion(() => Assert.Contains("--mud-palette-secondary: rgba(95,107,122,1);", cut.Markup));
        Assert.Contains(JSInterop.Invocations, i => i.Identifier == "portal.setTheme" && Equals(i.Arguments[0], "light"));
        Assert.False(Services.GetRequiredService<CircuitClient>().DarkMode);
    }

    [Theory]
    [InlineData("dark", true)]
    [InlineData("light", false)]
    [InlineData(null, null)]
    [InlineData("pink", null)]
    public void ThemeCookie_ReadsDarkLightOrNothing(string? cookie, bool? dark) =>
        Assert.Equal(dark, CircuitClient.DarkModeFrom(cookie));
}
