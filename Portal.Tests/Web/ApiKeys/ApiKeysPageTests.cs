using System.Security.Claims;
using System.Text.RegularExpressions;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Tests.Support;
using Portal.Web.Features.ApiKeys;

namespace Portal.Tests.Web.ApiKeys;

/// <summary>The API Keys page and its dialogs with real services over SQLite.</summary>
public sealed partial class ApiKeysPageTests : BunitContext, IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _actor = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(_db.Get<ApiKeyService>());
        Services.AddSingleton(_db.Get<Portal.Core.Features.Users.UserService>());
        Services.AddSingleton<TimeProvider>(_db.Clock);
        Services.AddScoped<Portal.Web.Infrastructure.CircuitClient>();
        var (user, actor) = await _db.CreateUserAsync(Roles.Developer);
        _actor = actor;
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()), new Claim(ClaimTypes.Email, user.Email), new Claim(ClaimTypes.Role, Roles.Developer));
        auth.SetPolicies(nameof(Permission.ApiKeysRead), nameof(Permission.ApiKeysWrite));
        // The Actor MainLayout cascades to pages.
        RenderTree.Add<Portal.Web.Components.Layout.ActorProvider>();
        SetRendererInfo(new RendererInfo("Server", true));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Page_ShowsTheFourMetricCards_AndTheKeysMasked()
    {
        var keys = _db.Get<ApiKeyService>();
        var first = (await keys.CreateAsync(_actor, new CreateApiKey { Name = "first", Scopes = [Scopes.Read] })).Value;
        var second = (await keys.CreateAsync(_actor, new CreateApiKey { Name = "second", Scopes = [Scopes.Read, Scopes.Write] })).Value;
        await keys.RevokeAsync(_actor, second.Id);

        Render<MudPopoverProvider>();
        var page = Render<ApiKeysPage>();

        page.WaitForAssertion(() =>
        {
            var values = page.FindAll("[data-testid=metric-value]").Select(e => e.TextContent.Trim()).ToList();
            Assert.Equal(["2", "1", "0", "0"], values);
            Assert.Contains("first", page.Markup);
            Assert.Contains(first.MaskedKey, page.Markup);
        });
        foreach (var title in new[] { "Total Keys", "Active Keys", "Expired Keys", "API Calls Today" }) Assert.Contains(title, page.Markup);
        Assert.DoesNotContain(first.Key, page.Markup);
    }

    [Fact]
    public async Task CreateDialog_ShowsTheFullKeyOnce_AndItWorks()
    {
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<CreateApiKeyDialog>("Create API Key",
            new DialogParameters<CreateApiKeyDialog> { { d => d.Actor, _actor } }));

        provider.WaitForElement("form#create-api-key-form input").Change("deploy");
        provider.Find("form#create-api-key-form").Submit();

        string? key = null;
        provider.WaitForAssertion(() =>
        {
            Assert.Contains("cannot be retrieved later", provider.Markup);
            key = KeyPattern().Match(provider.Markup).Value;
            Assert.StartsWith("ptl_", key);
        });
        Assert.True((await _db.Get<ApiKeyService>().AuthenticateAsync(key!)).IsValid);
        var listed = (await _db.Get<ApiKeyService>().ListAsync(_actor, new ApiKeyQuery())).Value.Items;
        Assert.Equal("deploy", Assert.Single(listed).Name);
    }

    [Fact]
    public async Task DetailsDialog_ShowsConfigurationAndUsageChart_NeverTheSecret()
    {
        var issued = (await _db.Get<ApiKeyService>().CreateAsync(_actor, new CreateApiKey { Name = "charted", Scopes = [Scopes.Read] })).Value;
        Render<MudPopoverProvider>();
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<ApiKeyDetailsDialog>("charted",
            new DialogParameters<ApiKeyDetailsDialog> { { d => d.Actor, _actor }, { d => d.KeyId, issued.Id } }));

        provider.WaitForAssertion(() =>
        {
            Assert.Contains("Calls per day", provider.Markup);
            Assert.Contains(issued.Id.ToString(), provider.Markup);
            Assert.Contains(issued.MaskedKey, provider.Markup);
        });
        Assert.DoesNotContain(issued.Key, provider.Markup);
    }

    [Fact]
    public async Task Search_WithNoMatch_SaysNoKeysMatch_AndClearFiltersBringsTheKeysBack()
    {
        await _db.Get<ApiKeyService>().CreateAsync(_actor, new CreateApiKey { Name = "deploy", Scopes = [Scopes.Read] });
        Render<MudPopoverProvider>();
        var page = Render<ApiKeysPage>();
        page.WaitForAssertion(() => Assert.Contains("deploy", page.Markup));

        page.Find("[data-testid=api-keys-search] input, input[data-testid=api-keys-search]").Input("nothing-called-this");
        _db.Clock.Advance(TimeSpan.FromSeconds(1)); // the search's debounce runs on the injected clock

        page.WaitForAssertion(() => Assert.Equal("No keys match \"nothing-called-this\".",
            page.Find("[data-testid=api-keys-no-match] p").TextContent.Trim()), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("No API keys yet", page.Markup);

        page.FindAll("[data-testid=api-keys-no-match] button").Single(b => b.TextContent.Contains("Clear filters")).Click();

        page.WaitForAssertion(() => Assert.NotNull(page.Find("td[data-label=Name] b")), TimeSpan.FromSeconds(5));
        Assert.Equal("deploy", page.Find("td[data-label=Name] b").TextContent.Trim());
        Assert.Empty(page.FindAll("[data-testid=api-keys-no-match]"));
    }

    [Fact]
    public void NoKeysAtAll_SaysNoApiKeysYet_WithoutClearFilters()
    {
        Render<MudPopoverProvider>();
        var page = Render<ApiKeysPage>();

        page.WaitForAssertion(() => Assert.Equal("No API keys yet.", page.Find("[data-testid=api-keys-empty]").TextContent.Trim()));
        Assert.Empty(page.FindAll("[data-testid=api-keys-no-match]"));
    }

    [Fact]
    public async Task DetailsDialog_ListsTheFieldsAsADefinitionList_AndTheChartInItsOwnBox()
    {
        var issued = (await _db.Get<ApiKeyService>().CreateAsync(_actor, new CreateApiKey { Name = "listed", Description = "for the nightly job", Scopes = [Scopes.Read] })).Value;
        Render<MudPopoverProvider>();
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();
        await provider.InvokeAsync(() => dialogs.ShowAsync<ApiKeyDetailsDialog>("listed",
            new DialogParameters<ApiKeyDetailsDialog> { { d => d.Actor, _actor }, { d => d.KeyId, issued.Id } }));

        // A dl stacks label over value on a phone (app.css); a table would be cut off on the right.
        var details = provider.WaitForElement("dl[data-testid=api-key-details]");
        var labels = details.QuerySelectorAll("dt").Select(d => d.TextContent.Trim()).ToList();
        Assert.Equal(["Key id", "Key", "Description", "Owner", "Scopes", "Status", "Created", "Expires", "Last used"], labels);
        Assert.Equal("for the nightly job", details.QuerySelectorAll("dd")[2].TextContent.Trim());
        provider.WaitForAssertion(() => Assert.NotNull(provider.Find("[data-testid=api-key-usage-chart]")));
    }

    [GeneratedRegex("ptl_[0-9A-Za-z]{36}")]
    private static partial Regex KeyPattern();
}
