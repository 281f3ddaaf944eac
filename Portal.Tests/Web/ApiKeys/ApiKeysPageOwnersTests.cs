using Bunit;
using Bunit.Rendering;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Features.ApiKeys;

namespace Portal.Tests.Web.ApiKeys;

/// <summary>
/// An admin on the API Keys page and its create dialog, with keys of users whose roles grant more than an admin's:
/// the page offers no Regenerate on those keys, and the dialog refuses to make one for such a user.
/// </summary>
public sealed class ApiKeysPageOwnersTests : PortalBunitContext
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private ApiKeyService Keys => Db.Get<ApiKeyService>();

    [Fact]
    public async Task Admin_GetsNoRegenerateOnASuperAdminsKey_ButOnAnotherAdminsKey_AndMayRevokeBoth()
    {
        var (_, superAdmin) = await Db.CreateUserAsync(Roles.SuperAdmin);
        var (_, otherAdmin) = await Db.CreateUserAsync(Roles.Admin);
        await Keys.CreateAsync(superAdmin, new CreateApiKey { Name = "super-key", Scopes = [Scopes.Read] });
        await Keys.CreateAsync(otherAdmin, new CreateApiKey { Name = "admin-key", Scopes = [Scopes.Read] });
        SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);

        var cut = RenderWithProviders<ApiKeysPage>();
        cut.WaitForAssertion(() => Assert.Contains("super-key", cut.Markup), Wait);

        Assert.Equal(["Revoke", "Delete"], MenuOf(cut, "super-key"));
        Assert.Equal(["Regenerate", "Revoke", "Delete"], MenuOf(cut, "admin-key"));
    }

    [Fact]
    public async Task CreateDialog_ForASuperAdminsEmail_ShowsTheRule_AndIssuesNothing()
    {
        var (superUser, _) = await Db.CreateUserAsync(Roles.SuperAdmin);
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        var cut = RenderWithProviders<ApiKeysPage>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await cut.InvokeAsync(() => dialogs.ShowAsync<CreateApiKeyDialog>("Create API Key",
            new DialogParameters<CreateApiKeyDialog> { { d => d.Actor, admin } }));

        var inputs = cut.WaitForElements("form#create-api-key-form input", Wait);
        inputs[0].Change("escalate");
        cut.FindComponents<MudTextField<string>>().Single(f => f.Instance.Label == "For another user (email)").Find("input").Change(superUser.Email);
        cut.Find("form#create-api-key-form").Submit();

        cut.WaitForAssertion(() => Assert.Contains("grant more than yours", cut.Find(".mud-dialog .mud-alert").TextContent), Wait);
        Assert.DoesNotContain("cannot be retrieved later", cut.Markup);
        Assert.Equal(0, (await Keys.ListAsync(await Db.RootAsync(), new ApiKeyQuery { OwnerId = superUser.Id })).Value.Total);
    }

    /// <summary>Opens the row's actions menu and reads its items.</summary>
    private static List<string> MenuOf(IRenderedComponent<ContainerFragment> cut, string keyName)
    {
        cut.Find($"button[aria-label='Actions for {keyName}']").Click();
        var items = new List<string>();
        cut.WaitForAssertion(() =>
        {
            items = [.. cut.FindAll(".mud-popover-open .mud-menu-item").Select(i => i.TextContent.Trim())];
            Assert.NotEmpty(items);
        }, Wait);
        // Closed again, so the next menu's items are the only ones open.
        cut.Find($"button[aria-label='Actions for {keyName}']").Click();
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll(".mud-popover-open .mud-menu-item")), Wait);
        return items;
    }
}
