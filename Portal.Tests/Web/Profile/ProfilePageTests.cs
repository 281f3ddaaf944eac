using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Profile;

namespace Portal.Tests.Web.Profile;

public sealed class ProfilePageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    protected override void AddPageServices()
    {
        Services.AddOptions();
        Services.AddSingleton(Db.Get<ProfileService>());
    }

    [Fact]
    public async Task Shows_TheUsersDetails_PasswordForm_AndRecentSignIns()
    {
        var (user, actor) = await Db.CreateUserAsync(Roles.Developer, "dana.dev@portal.test");
        await Db.Get<UserService>().RecordSignInAsync(user.Email, SignInOutcome.Succeeded, "192.0.2.7");
        SignInAs(actor);

        var cut = RenderWithProviders<ProfilePage>();

        cut.WaitForAssertion(() => Assert.Contains("dana.dev@portal.test", cut.Markup), Wait);
        Assert.Equal(user.DisplayName, cut.Find("input.mud-input-root").GetAttribute("value"));
        Assert.NotNull(cut.Find($"a[href='{ProfilePaths.ChangePassword}']"));
        Assert.NotNull(cut.Find($"form[action='{ProfilePaths.EndOtherSessions}']"));
        Assert.Contains("192.0.2.7", cut.Find(".profile-signins").TextContent);
    }

    [Fact]
    public async Task TwoFactor_Off_OffersSetUp()
    {
        var (_, actor) = await Db.CreateUserAsync(Roles.Developer);
        SignInAs(actor);
        var cut = RenderWithProviders<ProfilePage>();
        cut.WaitForAssertion(() => Assert.Equal("Off", cut.Find("[data-testid='two-factor-chip']").TextContent.Trim()), Wait);
        Assert.Contains("Set up", cut.Find($"#two-factor a[href='{ProfilePaths.TwoFactor}']").TextContent);
    }

    [Fact]
    public async Task TwoFactor_On_OffersManage()
    {
        var (user, actor) = await Db.CreateUserAsync(Roles.Developer);
        SignInAs(actor);
        await using (var db = await Db.OpenAsync())
        {
            (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.Users, u => u.Id == user.Id)).TwoFactorEnabled = true;
            await db.SaveChangesAsync();
        }
        var again = RenderWithProviders<ProfilePage>();
        again.WaitForAssertion(() => Assert.Equal("On", again.Find("[data-testid='two-factor-chip']").TextContent.Trim()), Wait);
        Assert.Contains("Manage", again.Find($"#two-factor a[href='{ProfilePaths.TwoFactor}']").TextContent);
    }

    [Fact]
    public async Task SaveName_Blank_ShowsTheFieldError_Valid_Saves()
    {
        var (_, actor) = await Db.CreateUserAsync(Roles.ReadOnly);
        SignInAs(actor);
        var cut = RenderWithProviders<ProfilePage>();
        cut.WaitForAssertion(() => cut.Find("input.mud-input-root"), Wait);

        cut.Find("input.mud-input-root").Change("Renamed Person");
        cut.FindAll("button").First(b => b.TextContent.Trim() == "Save").Click();

        cut.WaitForAssertion(() => Assert.Contains("Display name saved", cut.Markup), Wait);
        Assert.Equal("Renamed Person", (await Db.Get<ProfileService>().GetAsync(actor)).Value.DisplayName);
    }

    [Fact]
    public async Task PasswordChanged_FromTheAddress_IsShown()
    {
        var (_, actor) = await Db.CreateUserAsync(Roles.Developer);
        SignInAs(actor);
        Services.GetRequiredService<NavigationManager>().NavigateTo("/account/profile?passwordChange=changed");

        var cut = RenderWithProviders<ProfilePage>();

        cut.WaitForAssertion(() => Assert.Contains("Password changed", cut.Markup), Wait);
    }
}
