using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Bunit;
using Bunit.Rendering;
using Portal.Core.Common;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.Accounts;

namespace Portal.Tests.Web.Accounts;

public sealed class AccountsPageTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private UserDto _admin = default!;
    private UserDto _readOnly = default!;
    private UserDto _developer = default!;
    private AccountDto _team = default!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _admin = (await Db.CreateUserAsync(Roles.Admin, "alice.admin@portal.test")).User;
        _readOnly = (await Db.CreateUserAsync(Roles.ReadOnly, "rick.reader@portal.test")).User;
        _developer = (await Db.CreateUserAsync(Roles.Developer, "dana.dev@portal.test")).User;
        _team = (await Db.Get<AccountService>().CreateAsync(await Db.RootAsync(), new CreateAccount { Name = "Acme Team", Kind = AccountKind.Team })).Value;
    }

    [Fact]
    public void Admin_SeesCreateAccount_AndCreatesATeam()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderPage();

        CreateButton(cut).Click();
        cut.WaitForElement(".mud-dialog", Wait);
        cut.Find("[data-testid=account-name] input, input[data-testid=account-name]").Change("Globex Team");
        cut.Find("form#create-account-form").Submit();

        cut.WaitForAssertion(() =>
        {
            Assert.Empty(cut.FindAll(".mud-dialog"));
            Assert.Contains("Globex Team", Names(cut));
        }, Wait);
    }

    [Theory]
    [InlineData("not-an-id")]
    [InlineData("00000000-0000-0000-0000-000000000001")]
    public void OpenedWithAnIdThatIsNoAccount_SaysSo_AndStillLists(string id)
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/accounts?id={id}");

        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Contains("That account does not exist.", cut.Markup), Wait);
        Assert.Contains("Acme Team", Names(cut));
    }

    [Fact]
    public void ReadOnly_SeesAccounts_ButNoCreate()
    {
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));
        var cut = RenderPage();

        Assert.Contains("Acme Team", Names(cut));
        Assert.DoesNotContain(cut.FindAll("button"), b => b.TextContent.Trim() == "Create account");
    }

    [Fact]
    public async Task Admin_AddsAMemberByEmail_AndRemovesThem()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderPage();

        cut.Find("[data-testid='open-account-Acme Team']").Click();
        cut.WaitForElement("[data-testid=members-empty]", Wait);
        cut.Find("[data-testid=member-email] input, input[data-testid=member-email]").Input(_developer.Email);
        cut.Find("button[data-testid=add-member]").Click();
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find($"[data-testid='remove-member-{_developer.Email}']")), Wait);
        Assert.Single((await Db.Get<AccountService>().GetAsync(await Db.RootAsync(), _team.Id)).Value.Members);

        cut.Find($"[data-testid='remove-member-{_developer.Email}']").Click();
        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll(".mud-dialog button"), b => b.TextContent.Trim() == "Remove"), Wait);
        cut.FindAll(".mud-dialog button").Last(b => b.TextContent.Trim() == "Remove").Click();
        cut.WaitForElement("[data-testid=members-empty]", Wait);
        Assert.Empty((await Db.Get<AccountService>().GetAsync(await Db.RootAsync(), _team.Id)).Value.Members);
    }

    [Fact]
    public void ReadOnly_AccountDetails_ShowMembersWithoutAddOrRemove()
    {
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));
        var cut = RenderPage();

        cut.Find("[data-testid='open-account-Acme Team']").Click();
        cut.WaitForElement("[data-testid=members-empty]", Wait);

        Assert.Empty(cut.FindAll("[data-testid=add-member], [data-testid=member-email]"));
    }

    [Fact]
    public async Task Admin_SuspendsAndReactivatesAnAccount_AfterConfirming()
    {
        SignInAs(new Actor(_admin.Id, _admin.Email, _admin.Roles));
        var cut = RenderPage();

        cut.Find("[data-testid='open-account-Acme Team']").Click();
        cut.WaitForElement("button[data-testid=suspend-account]", Wait).Click();
        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll(".mud-dialog button"), b => b.TextContent.Trim() == "Suspend"), Wait);
        Assert.Equal(AccountStatus.Active, (await Db.Get<AccountService>().GetAsync(await Db.RootAsync(), _team.Id)).Value.Status);
        cut.FindAll(".mud-dialog button").Last(b => b.TextContent.Trim() == "Suspend").Click();

        cut.WaitForElement("[data-testid=account-suspended]", Wait);
        Assert.Equal("Suspended", cut.Find("[data-testid=account-status]").TextContent.Trim());
        Assert.Equal(AccountStatus.Suspended, (await Db.Get<AccountService>().GetAsync(await Db.RootAsync(), _team.Id)).Value.Status);

        cut.Find("button[data-testid=reactivate-account]").Click();
        cut.WaitForAssertion(() => Assert.Contains(cut.FindAll(".mud-dialog button"), b => b.TextContent.Trim() == "Reactivate"), Wait);
        cut.FindAll(".mud-dialog button").Last(b => b.TextContent.Trim() == "Reactivate").Click();
        cut.WaitForElement("button[data-testid=suspend-account]", Wait);
        Assert.Empty(cut.FindAll("[data-testid=account-suspended]"));
        Assert.Equal(AccountStatus.Active, (await Db.Get<AccountService>().GetAsync(await Db.RootAsync(), _team.Id)).Value.Status);
    }

    [Fact]
    public async Task SuspendedAccounts_AreMarkedInTheList_ReadOnlySeesTheStatusButCannotChangeIt()
    {
        await Db.Get<AccountService>().SetStatusAsync(await Db.RootAsync(), _team.Id, AccountStatus.Suspended);
        SignInAs(new Actor(_readOnly.Id, _readOnly.Email, _readOnly.Roles));
        var cut = RenderPage();

        Assert.NotNull(cut.Find("[data-testid='suspended-Acme Team']"));
        cut.Find("[data-testid='open-account-Acme Team']").Click();
        cut.WaitForElement("[data-testid=account-suspended]", Wait);
        Assert.Empty(cut.FindAll("[data-testid=suspend-account], [data-testid=reactivate-account]"));
    }

    private IRenderedComponent<ContainerFragment> RenderPage()
    {
        var cut = RenderWithProviders<AccountsPage>();
        cut.WaitForAssertion(() => Assert.NotEmpty(Names(cut)), Wait);
        return cut;
    }

    private static AngleSharp.Dom.IElement CreateButton(IRenderedComponent<ContainerFragment> cut) =>
        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Create account");

    private static List<string> Names(IRenderedComponent<ContainerFragment> cut) =>
        [.. cut.FindAll("tbody a[data-testid^=account-]").Select(a => a.TextContent.Trim())];
}
