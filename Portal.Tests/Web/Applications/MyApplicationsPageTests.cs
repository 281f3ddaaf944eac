using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Tests.Support;
using Portal.Web.Features.Applications;

namespace Portal.Tests.Web.Applications;

/// <summary>My Applications, its create dialog and the application detail, with real services over SQLite.</summary>
public sealed partial class MyApplicationsPageTests : PortalBunitContext
{
    [System.Text.RegularExpressions.GeneratedRegex("ptl_[A-Za-z0-9_-]+")]
    private static partial System.Text.RegularExpressions.Regex KeyPattern();

    private ApplicationService Apps => Db.Get<ApplicationService>();

    private async Task<IRenderedComponent<MudDialogProvider>> OpenCreateDialogAsync(Actor actor)
    {
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<CreateApplicationDialog>("Create application",
            new DialogParameters<CreateApplicationDialog> { { d => d.Actor, actor } }));
        return provider;
    }

    private async Task<Actor> DeveloperAsync() => SignInAs((await Db.CreateUserAsync(Roles.Developer)).Actor);

    [Fact]
    public async Task FirstTimeUser_SeesTheEmptyStateWithCreate()
    {
        await DeveloperAsync();
        var page = RenderWithProviders<MyApplicationsPage>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=applications-empty]")));
        Assert.Contains("No applications yet", page.Markup);
        Assert.NotNull(page.Find("[data-testid=create-application]"));
    }

    [Fact]
    public async Task List_ShowsOnlyTheCallersApplications()
    {
        var dev = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        await Apps.CreateAsync(dev, new CreateApplication { Name = "Someone else's app" });
        var me = await DeveloperAsync();
        var own = (await Apps.CreateAsync(me, new CreateApplication { Name = "Mobile iOS App", Description = "API access for iOS" })).Value;

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=application-card]")));
        Assert.Contains("Mobile iOS App", page.Markup);
        Assert.Contains(own.Application.ReferenceId.ToString(), page.Markup);
        Assert.Contains("1 active key", page.Markup);
        Assert.DoesNotContain("Someone else's app", page.Markup);
    }

    [Fact]
    public async Task MoreApplicationsThanShown_SaysHowManyThereAre()
    {
        var me = await DeveloperAsync();
        var first = (await Apps.CreateAsync(me, new CreateApplication { Name = "App 000" })).Value.Application;
        await using (var db = await Db.OpenAsync())
        {
            // Past the account's limit on purpose: the page must not silently drop what it cannot show.
            db.Applications.AddRange(Enumerable.Range(1, MyApplications.Shown).Select(i => new Application
            {
                AccountId = first.AccountId, Name = $"App {i:000}", CreatedAt = DateTimeOffset.UtcNow,
            }));
            await db.SaveChangesAsync();
        }

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() => Assert.Equal(MyApplications.Shown, page.FindAll("[data-testid=application-card]").Count), TimeSpan.FromSeconds(10));
        Assert.Contains($"Showing the first {MyApplications.Shown} of {MyApplications.Shown + 1} applications",
            page.Find("[data-testid=applications-more]").TextContent);
    }

    [Fact]
    public async Task FewApplications_NoCountNotice()
    {
        var me = await DeveloperAsync();
        await Apps.CreateAsync(me, new CreateApplication { Name = "Only app" });

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=application-card]")));
        Assert.Empty(page.FindAll("[data-testid=applications-more]"));
    }

    [Fact]
    public async Task Admin_SeesOnlyTheirOwnApplications_NotEveryones()
    {
        var dev = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        await Apps.CreateAsync(dev, new CreateApplication { Name = "A developer's app" });
        SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);

        var page = RenderWithProviders<MyApplicationsPage>();

        // An admin belongs to no developer account: no Create that could not save, but where applications are.
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=applications-no-account]")));
        Assert.DoesNotContain("A developer's app", page.Markup);
        Assert.Empty(page.FindAll("[data-testid=create-application]"));
        Assert.Contains("You belong to no developer account", page.Markup);
        Assert.Contains(page.FindAll("[data-testid=applications-no-account] a"), a => a.GetAttribute("href") == "/portal-apps");
        Assert.Contains(page.FindAll("[data-testid=applications-no-account] a"), a => a.GetAttribute("href") == "/accounts");
    }

    /// <summary>
    /// A read-only user, in no account (the usual case) or in one (an auditor's view of their own accounts): no Create
    /// and no "Create one", but words for who cannot create.
    /// </summary>
    [Theory]
    [InlineData(false, "applications-no-account", "You belong to no developer account")]
    [InlineData(true, "applications-empty", "Your role can see your accounts' applications but not create them.")]
    public async Task ReadOnly_IsNotToldToCreateOne(bool member, string state, string says)
    {
        var user = member ? await DeveloperAsync() : (await Db.CreateUserAsync(Roles.ReadOnly)).Actor;
        SignInAs(new Actor(user.UserId, user.Email, [Roles.ReadOnly]));

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() => Assert.NotNull(page.Find($"[data-testid={state}]")));
        Assert.Contains(says, page.Markup);
        Assert.Empty(page.FindAll("[data-testid=create-application]"));
        Assert.DoesNotContain("Create one", page.Markup);
        Assert.DoesNotContain("Add yourself", page.Markup);
    }

    [Fact]
    public async Task CreateDialog_ForAnAdminWithoutAnAccount_SaysSo_AndSaveShowsTheAccountError()
    {
        var admin = SignInAs((await Db.CreateUserAsync(Roles.Admin)).Actor);
        var provider = await OpenCreateDialogAsync(admin);

        provider.WaitForElement("[data-testid=create-no-account]");
        provider.Find("input[data-testid=create-name], [data-testid=create-name] input").Change("Orphan app");
        provider.Find("form#create-application-form").Submit();

        // The service's accountId error has no field on this form to sit under: it shows in the dialog's alert.
        provider.WaitForAssertion(() => Assert.Contains("Choose the account the application belongs to.", provider.Find("[data-testid=dialog-error]").TextContent));
        Assert.Empty((await Apps.ListAsync(admin, new ApplicationQuery())).Value.Items);
    }

    [Fact]
    public async Task CreateDialog_ALongName_BreaksInsteadOfOverflowing_WithTheWholeNameAsTitle()
    {
        var actor = await DeveloperAsync();
        var name = new string('x', 255);
        var provider = await OpenCreateDialogAsync(actor);

        provider.WaitForElement("input[data-testid=create-name], [data-testid=create-name] input").Change(name);
        provider.Find("form#create-application-form").Submit();

        var ready = provider.WaitForElement("[data-testid=created-application-name]");
        Assert.Contains("portal-break", ready.ClassList);
        Assert.Equal(name, ready.QuerySelector("b")!.GetAttribute("title"));
    }

    [Fact]
    public async Task AfterSignUp_ShowsTheHandedOverKeyOnce()
    {
        var me = await DeveloperAsync();
        var created = (await Apps.CreateAsync(me, new CreateApplication { Name = "My first application" })).Value;
        Services.GetRequiredService<FirstKeyHandoff>().Give(me.UserId, created.Key);

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Your first API key", page.Markup);
            Assert.Contains("cannot be retrieved later", page.Markup);
            Assert.Equal(created.Key.Key, page.Find("input[data-testid=new-api-key], [data-testid=new-api-key] input").GetAttribute("value"));
        });
        page.Find("[data-testid=dialog-done]").Click();
        page.WaitForAssertion(() => Assert.DoesNotContain(created.Key.Key, page.Markup));

        // Taken by the page: a second visit (reload, dashboard) finds nothing to show.
        Assert.Null(Services.GetRequiredService<FirstKeyHandoff>().Take(me.UserId));
    }

    [Fact]
    public async Task NoSignUp_ShowsNoKeyDialog()
    {
        var me = await DeveloperAsync();
        await Apps.CreateAsync(me, new CreateApplication { Name = "Existing" });

        var page = RenderWithProviders<MyApplicationsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=application-card]")));
        Assert.Empty(page.FindAll("[data-testid=new-api-key]"));
    }

    [Fact]
    public async Task CreateDialog_ShowsTheFirstKeyOnce_AndItWorks()
    {
        var actor = await DeveloperAsync();
        var provider = await OpenCreateDialogAsync(actor);

        provider.WaitForElement("input[data-testid=create-name], [data-testid=create-name] input").Change("Partner app");
        provider.Find("form#create-application-form").Submit();

        string? key = null;
        provider.WaitForAssertion(() =>
        {
            Assert.Contains("cannot be retrieved later", provider.Markup);
            key = KeyPattern().Match(provider.Markup).Value;
            Assert.StartsWith("ptl_", key);
        });
        Assert.False(string.IsNullOrEmpty(key));
        var check = await Db.Get<ApiKeyService>().AuthenticateAsync(key!);
        Assert.Equal(KeyCheckCode.Valid, check.Code);
        var app = (await Apps.ListAsync(actor, new ApplicationQuery { Mine = true })).Value.Items.Single();
        Assert.Equal("Partner app", app.Name);
        Assert.Equal(app.Id, check.Identity!.ApplicationId);
    }

    [Fact]
    public async Task CreateDialog_DuplicateName_ShowsTheErrorOnTheForm()
    {
        var actor = await DeveloperAsync();
        await Apps.CreateAsync(actor, new CreateApplication { Name = "Taken" });
        var provider = await OpenCreateDialogAsync(actor);

        provider.WaitForElement("input[data-testid=create-name], [data-testid=create-name] input").Change("Taken");
        provider.Find("form#create-application-form").Submit();

        provider.WaitForAssertion(() => Assert.Contains("already has an application named", provider.Markup));
        Assert.Empty(provider.FindAll("[data-testid=new-api-key]"));
    }

    [Fact]
    public async Task Detail_ShowsHeaderKeysAndProductsSections()
    {
        var actor = await DeveloperAsync();
        var created = (await Apps.CreateAsync(actor, new CreateApplication { Name = "Mobile iOS App", Description = "API access for iOS" })).Value;

        var page = Render<ApplicationDetail>(p => p.Add(d => d.Id, created.Application.Id));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=application-header]")));
        Assert.Contains("Mobile iOS App", page.Markup);
        Assert.Contains(created.Application.ReferenceId.ToString(), page.Markup);
        Assert.Equal(created.Application.CreatedAt.ToString("dd/MM/yyyy HH:mm:ss"), page.Find("[data-testid=application-created]").TextContent.Trim());
        Assert.Contains(created.Key.Id.ToString(), page.Find("[data-testid=application-keys]").TextContent);
        Assert.Contains("Never Expire", page.Markup);
        Assert.Contains("Active", page.Find("[data-testid=key-enabled]").TextContent);
        Assert.NotNull(page.Find("[data-testid=generate-key]"));
        Assert.NotNull(page.Find("[data-testid=revoke-key]"));
        Assert.Contains("No API product registrations yet", page.Find("[data-testid=application-products]").TextContent);
        Assert.DoesNotContain(created.Key.Key, page.Markup);
        // A developer sees the account name as text, not a link to the admin accounts page.
        Assert.Empty(page.FindAll("[data-testid=application-account] a"));
    }

    [Fact]
    public async Task Detail_AnotherAccountsApplication_IsNotFound()
    {
        var other = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var theirs = (await Apps.CreateAsync(other, new CreateApplication { Name = "Theirs" })).Value;
        await DeveloperAsync();

        var page = Render<ApplicationDetail>(p => p.Add(d => d.Id, theirs.Application.Id));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=application-not-found]")));
        Assert.DoesNotContain("Theirs", page.Markup);
    }

    [Fact]
    public async Task Detail_ReadOnly_SeesNoActions()
    {
        var dev = (await Db.CreateUserAsync(Roles.Developer)).Actor;
        var app = (await Apps.CreateAsync(dev, new CreateApplication { Name = "Audited" })).Value;
        SignInAs((await Db.CreateUserAsync(Roles.ReadOnly)).Actor);

        var page = Render<ApplicationDetail>(p => p.Add(d => d.Id, app.Application.Id));

        page.WaitForAssertion(() => Assert.Contains("Audited", page.Markup));
        Assert.Empty(page.FindAll("[data-testid=generate-key]"));
        Assert.Empty(page.FindAll("[data-testid=revoke-key]"));
        Assert.Empty(page.FindAll("[data-testid=edit-application]"));
        Assert.NotEmpty(page.FindAll("[data-testid=application-account] a"));
    }

    [Theory]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    public async Task Detail_ForWhoMaySeeAccounts_LinksTheAccountToItsDetails(string role)
    {
        var application = (await Apps.CreateAsync((await Db.CreateUserAsync(Roles.Developer)).Actor, new CreateApplication { Name = "Linked" })).Value.Application;
        SignInAs((await Db.CreateUserAsync(role)).Actor);

        var link = Render<ApplicationDetail>(p => p.Add(d => d.Id, application.Id)).WaitForElement("[data-testid=application-account] a");

        Assert.Equal($"/accounts?id={application.AccountId}", link.GetAttribute("href"));
        Assert.Equal(application.AccountName, link.TextContent.Trim());
    }
}
