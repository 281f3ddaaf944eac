using Microsoft.EntityFrameworkCore;
using AngleSharp.Dom;
using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Users;

namespace Portal.Tests.Web.Users;

public sealed class UsersPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private UserDto _admin = default!;
    private UserDto _readOnly = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _admin = (await Db.CreateUserAsync(Roles.Admin, "alice.admin@portal.test")).User;
        _readOnly = (await Db.CreateUserAsync(Roles.ReadOnly, "rick.reader@portal.test")).User;
    }

    [Fact]
    public async Task Grid_ShowsColumnsAndSeededUsers()
    {
        SignInAs(await Db.RootAsync());

        var cut = RenderUsers();

        var headers = cut.FindAll("th").Select(th => th.TextContent.Trim()).ToList();
        foreach (var title in new[] { "Email", "Display name", "Roles", "Status", "Last login", "Actions" })
            Assert.Contains(headers, h => h.StartsWith(title, StringComparison.Ordinal));
        var row = RowOf(cut, _admin.Email);
        Assert.Contains("Test admin", row.TextContent);
        Assert.Contains("admin", row.QuerySelectorAll(".mud-chip").Select(c => c.TextContent.Trim()));
        Assert.Contains("Active", row.TextContent);
        Assert.Contains("Never", row.TextContent);
    }

    [Fact]
    public async Task SuperAdmin_SeesCreateAndAllActionsOnOthers_ButNoResetOrDeleteOnOwnRow()
    {
        SignInAs(await Db.RootAsync());

        var cut = RenderUsers();

        Assert.NotNull(CreateButton(cut));
        Assert.Equal(["Edit", "Reset password", "Delete"], ActionsOf(RowOf(cut, _admin.Email)));
        Assert.Equal(["Edit"], ActionsOf(RowOf(cut, TestDatabase.AdminEmail)));
    }

    [Fact]
    public async Task TwoFactor_ColumnShowsWhoHasIt_AndOnlyASuperAdminMayResetIt()
    {
        await using (var db = await Db.OpenAsync())
        {
            (await db.Users.SingleAsync(u => u.Id == _readOnly.Id)).TwoFactorEnabled = true;
            await db.SaveChangesAsync();
        }
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();
        Assert.Equal("On", cut.Find($"[data-testid='two-factor-{_readOnly.Email}']").TextContent.Trim());
        Assert.Equal("Off", cut.Find($"[data-testid='two-factor-{_admin.Email}']").TextContent.Trim());
        Assert.Contains("Reset two-factor sign-in", ActionsOf(RowOf(cut, _readOnly.Email)));
        Assert.DoesNotContain("Reset two-factor sign-in", ActionsOf(RowOf(cut, _admin.Email)));
    }

    [Fact]
    public async Task TwoFactor_AnAdminSeesIt_ButMayNotResetIt()
    {
        await using (var db = await Db.OpenAsync())
        {
            (await db.Users.SingleAsync(u => u.Id == _readOnly.Id)).TwoFactorEnabled = true;
            await db.SaveChangesAsync();
        }
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderUsers();
        Assert.Equal("On", cut.Find($"[data-testid='two-factor-{_readOnly.Email}']").TextContent.Trim());
        Assert.DoesNotContain("Reset two-factor sign-in", ActionsOf(RowOf(cut, _readOnly.Email)));
    }

    [Fact]
    public async Task Admin_SeesEditOnly()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));

        var cut = RenderUsers();

        Assert.Null(CreateButton(cut));
        Assert.Equal(["Edit"], ActionsOf(RowOf(cut, _readOnly.Email)));
        Assert.Equal(["Edit"], ActionsOf(RowOf(cut, TestDatabase.AdminEmail)));
    }

    [Fact]
    public async Task ReadOnly_SeesNoActionsAndNoCreate()
    {
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));

        var cut = RenderUsers();

        Assert.Null(CreateButton(cut));
        Assert.Empty(cut.FindAll("tbody button[aria-label]"));
        Assert.DoesNotContain(cut.FindAll("th"), th => th.TextContent.Trim().StartsWith("Actions", StringComparison.Ordinal));
        Assert.Empty(ActionsOf(RowOf(cut, _admin.Email)));
    }

    [Fact]
    public async Task Search_FiltersRows_AndShowsEmptyStateWhenNothingMatches()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        cut.Find("input[data-testid=users-search], [data-testid=users-search] input").Input("rick");
        // MudBlazor debounces on the registered TimeProvider, which here is the test's fake clock.
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        cut.WaitForAssertion(() =>
        {
            var emails = cut.FindAll("td.users-email").Select(td => td.TextContent.Trim()).ToList();
            Assert.Equal([_readOnly.Email], emails);
        }, Wait);

        cut.Find("input[data-testid=users-search], [data-testid=users-search] input").Input("nobody-by-this-name");
        Db.Clock.Advance(TimeSpan.FromSeconds(1));

        cut.WaitForAssertion(() => Assert.Contains("No users match these filters", cut.Markup), Wait);
    }

    [Fact]
    public async Task Create_WithWeakPassword_ShowsPolicyErrorOnPasswordField()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        CreateButton(cut)!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains("Create user", dialog.TextContent);
        cut.Find("[data-testid=create-email] input, input[data-testid=create-email]").Change("new.person@portal.test");
        cut.Find("[data-testid=create-display-name] input, input[data-testid=create-display-name]").Change("New Person");
        cut.Find("[data-testid=create-password] input, input[data-testid=create-password]").Change("weak");
        // Choosing from the popover list needs a browser's layout; invoke the select's change callback as a click would.
        var roles = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Roles");
        await cut.InvokeAsync(() => roles.Instance.SelectedValuesChanged.InvokeAsync([Roles.Admin]));

        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();

        var expected = Db.Get<PasswordPolicy>().Check("weak")[0];
        cut.WaitForAssertion(() =>
        {
            var passwordField = cut.FindAll(".mud-dialog .mud-input-control").Single(f => f.TextContent.Contains("Password", StringComparison.Ordinal));
            Assert.Contains(expected, passwordField.TextContent);
        }, Wait);
        var list = await Db.Get<UserService>().ListAsync(await Db.RootAsync(), new UserQuery { Search = "new.person" });
        Assert.Equal(0, list.Value.Total);
    }

    [Fact]
    public async Task Create_WithARightToLeftOverrideInTheName_ShowsTheErrorOnThatField()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        CreateButton(cut)!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.Find("[data-testid=create-email] input, input[data-testid=create-email]").Change("spoof@portal.test");
        cut.Find("[data-testid=create-display-name] input, input[data-testid=create-display-name]").Change("admin\u202Enimda");
        cut.Find("[data-testid=create-password] input, input[data-testid=create-password]").Change("Passw0rd!Long");
        var roles = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Roles");
        await cut.InvokeAsync(() => roles.Instance.SelectedValuesChanged.InvokeAsync([Roles.Developer]));

        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();

        cut.WaitForAssertion(() =>
        {
            var nameField = cut.FindAll(".mud-dialog .mud-input-control").Single(f => f.TextContent.Contains("Display name", StringComparison.Ordinal));
            Assert.Contains("U+202E", nameField.TextContent);
        }, Wait);
        Assert.Equal(0, (await Db.Get<UserService>().ListAsync(await Db.RootAsync(), new UserQuery { Search = "spoof@" })).Value.Total);
    }

    [Fact]
    public async Task Create_WithValidInput_ClosesDialogAndShowsNewRow()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        CreateButton(cut)!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.Find("[data-testid=create-email] input, input[data-testid=create-email]").Change("new.person@portal.test");
        cut.Find("[data-testid=create-display-name] input, input[data-testid=create-display-name]").Change("New Person");
        cut.Find("[data-testid=create-password] input, input[data-testid=create-password]").Change("Str0ng!Passw0rd");
        var roles = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Roles");
        await cut.InvokeAsync(() => roles.Instance.SelectedValuesChanged.InvokeAsync([Roles.ReadOnly]));

        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll(".mud-dialog"));
            Assert.Contains("User created", cut.Markup);
            Assert.NotNull(RowOf(cut, "new.person@portal.test"));
        }, Wait);
    }

    [Fact]
    public async Task Create_WithTakenEmail_ShowsConflictOnEmailField()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        CreateButton(cut)!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.Find("[data-testid=create-email] input, input[data-testid=create-email]").Change(_admin.Email);
        cut.Find("[data-testid=create-display-name] input, input[data-testid=create-display-name]").Change("Someone Else");
        cut.Find("[data-testid=create-password] input, input[data-testid=create-password]").Change("Str0ng!Passw0rd");
        var roles = cut.FindComponents<MudSelect<string>>().Single(s => s.Instance.Label == "Roles");
        await cut.InvokeAsync(() => roles.Instance.SelectedValuesChanged.InvokeAsync([Roles.ReadOnly]));

        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();

        cut.WaitForAssertion(() =>
        {
            var emailField = cut.FindAll(".mud-dialog .mud-input-control").First(f => f.TextContent.Contains("Email", StringComparison.Ordinal));
            Assert.Contains("already exists", emailField.TextContent);
        }, Wait);
    }

    [Fact]
    public async Task Edit_DeactivatingYourself_ShowsTheRuleInTheDialog()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        RowOf(cut, TestDatabase.AdminEmail).QuerySelector("button[aria-label=Edit]")!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        var status = cut.FindComponent<MudSelect<UserStatus>>();
        await cut.InvokeAsync(() => status.Instance.ValueChanged.InvokeAsync(UserStatus.Inactive));
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();

        cut.WaitForAssertion(() => Assert.Contains("cannot deactivate your own account", cut.Find("[data-testid=dialog-error]").TextContent), Wait);
    }

    [Fact]
    public async Task Edit_AsAdmin_OnASuperAdmin_OffersNoRolesOrStatus_ButSavesTheName()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderUsers();

        RowOf(cut, TestDatabase.AdminEmail).QuerySelector("button[aria-label=Edit]")!.Click();
        cut.WaitForElement(".mud-dialog", Wait);

        Assert.True(cut.FindComponent<MudSelect<UserStatus>>().Instance.Disabled);
        Assert.True(cut.FindComponent<RolePicker>().Instance.Disabled);
        Assert.Contains("not yours to change", cut.Find(".mud-dialog").TextContent);
        cut.Find("[data-testid=edit-display-name] input, input[data-testid=edit-display-name]").Change("Root renamed");
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Save").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".mud-dialog")), Wait);
        var root = (await Db.Get<UserService>().GetAsync(await Db.RootAsync(), (await Db.RootAsync()).UserId)).Value;
        Assert.Equal(("Root renamed", UserStatus.Active), (root.DisplayName, root.Status));

        // Another admin's roles and status are still the admin's to change.
        RowOf(cut, _readOnly.Email).QuerySelector("button[aria-label=Edit]")!.Click();
        cut.WaitForElement(".mud-dialog", Wait);
        Assert.False(cut.FindComponent<MudSelect<UserStatus>>().Instance.Disabled);
    }

    [Fact]
    public async Task Delete_AfterConfirming_RemovesTheRow()
    {
        SignInAs(await Db.RootAsync());
        var cut = RenderUsers();

        RowOf(cut, _readOnly.Email).QuerySelector("button[aria-label=Delete]")!.Click();
        var dialog = cut.WaitForElement(".mud-dialog", Wait);
        Assert.Contains($"Delete user {_readOnly.Email}? This cannot be undone.", dialog.TextContent);
        cut.FindAll(".mud-dialog button").Single(b => b.TextContent.Trim() == "Delete").Click();

        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll(".mud-dialog"));
            Assert.DoesNotContain(cut.FindAll("td.users-email"), td => td.TextContent.Trim() == _readOnly.Email);
        }, Wait);
    }

    private IRenderedComponent<ContainerFragment> RenderUsers()
    {
        var cut = RenderWithProviders<UsersPage>();
        // The grid loads after its first render; wait until the seeded rows are there.
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("td.users-email")), Wait);
        return cut;
    }

    private static IElement? CreateButton(IRenderedComponent<ContainerFragment> cut) =>
        cut.FindAll("button").SingleOrDefault(b => b.TextContent.Trim() == "Create user");

    private static IElement RowOf(IRenderedComponent<ContainerFragment> cut, string email) =>
        cut.FindAll("tbody tr").Single(tr => tr.QuerySelector("td.users-email")?.TextContent.Trim() == email);

    private static List<string> ActionsOf(IElement row) =>
        [.. row.QuerySelectorAll("button[aria-label]").Select(b => b.GetAttribute("aria-label")!)];
}
