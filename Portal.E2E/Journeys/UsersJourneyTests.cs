using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.E2E.Pages;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Journeys;

/// <summary>The super-admin manages users through the Users page; what each role then sees there.</summary>
public sealed class UsersJourneyTests(PortalServer server, BrowserFixture browser)
    : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Password = "Journey#Pass1";
    private const string NewPassword = "Journey#Pass2";
    private BrowserSession _session = null!;

    public async ValueTask InitializeAsync() => _session = await browser.NewSessionAsync(server.BaseUrl);

    public async ValueTask DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task SuperAdmin_CreatesEditsResetsAndDeletesUsers_AndEachRoleSeesOnlyItsActions()
    {
        var page = _session.Page;
        var login = new LoginPage(page);
        var users = new UsersPage(page);
        var people = new Dictionary<string, (string Email, string Name)>
        {
            ["super-admin"] = ("ursula.super@portal.e2e", "Ursula Super"),
            ["admin"] = ("adam.admin@portal.e2e", "Adam Admin"),
            ["read-only"] = ("rita.reader@portal.e2e", "Rita Reader"),
            ["developer"] = ("dev.eloper@portal.e2e", "Dev Eloper"),
        };

        var layout = await login.SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await layout.GoToAsync("Users");
        await users.ExpectVisibleAsync();
        foreach (var (role, person) in people)
            await users.CreateUserAsync(person.Email, person.Name, Password, role);

        await users.EditUserAsync(people["developer"].Email, displayName: "Dev Eloper-Renamed");
        await users.ResetPasswordAsync(people["read-only"].Email, NewPassword);
        _session.AssertNoConsoleErrors("the Users page as super-admin");
        await layout.SignOutAsync(PortalServer.AdminDisplayName);

        var admin = people["admin"];
        layout = await login.SignInAsync(admin.Email, Password, admin.Name);
        await users.GotoAsync();
        await users.SearchAsync(people["developer"].Email);
        await users.ExpectCreateUserAsync(visible: false);
        await users.ExpectRowActionsAsync(people["developer"].Email, edit: true, resetPassword: false, delete: false);
        await layout.SignOutAsync(admin.Name);

        var reader = people["read-only"];
        layout = await login.SignInAsync(reader.Email, NewPassword, reader.Name);
        await users.GotoAsync();
        await users.ExpectUserListedAsync(PortalServer.AdminEmail);
        await users.ExpectNoActionButtonsAsync();
        await layout.SignOutAsync(reader.Name);

        layout = await login.SignInAsync(PortalServer.AdminEmail, PortalServer.AdminPassword, PortalServer.AdminDisplayName);
        await users.GotoAsync();
        await users.DeleteUserAsync(people["developer"].Email);
        _session.AssertNoConsoleErrors("the Users journey");
    }

    [Fact]
    public async Task Admin_LowersOwnRoles_IsSignedOutAtOnce_AndTheOldCookieNoLongerWorks()
    {
        var page = _session.Page;
        var unique = Guid.NewGuid().ToString("N")[..8];
        var admin = await server.CreateUserAsync("admin", Password, $"kate-{unique}@portal.e2e", $"Katherine {unique}");
        var layout = await new LoginPage(page).SignInAsync(admin.Email, Password, admin.DisplayName);
        var savedCookies = await page.Context.CookiesAsync();
        await layout.GoToAsync("Users");
        var users = new UsersPage(page);
        await users.ExpectVisibleAsync();

        await users.ToggleRolesAsync(admin.Email, "read-only", "admin");

        // The circuit signs out at once (no minute's grace) and lands on the sign-in page.
        var login = new LoginPage(page);
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await login.ExpectVisibleAsync();
        await page.GotoAsync("/subscriptions");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));

        // A copy of the cookie saved before the change opens nothing either.
        await using var replay = await browser.NewSessionAsync(server.BaseUrl);
        await replay.Page.Context.AddCookiesAsync(savedCookies.Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
        }));
        await replay.Page.GotoAsync("/subscriptions");
        await Expect(replay.Page).ToHaveURLAsync(new Regex("/account/login"));

        // The change itself was saved: signing in again works, with the new roles.
        await new LoginPage(page).SignInAsync(admin.Email, Password, admin.DisplayName);
        var roles = await server.Get<UserService>().GetAsync(Actor.System, admin.Id);
        Assert.Equal(["read-only"], roles.Value.Roles);
    }
}
