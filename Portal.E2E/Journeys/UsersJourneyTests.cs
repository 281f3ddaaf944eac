using Portal.E2E.Pages;
using Portal.E2E.Support;

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
}
