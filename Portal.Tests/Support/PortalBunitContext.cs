using System.Security.Claims;
using Bunit;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;

namespace Portal.Tests.Support;

/// <summary>
/// bUnit for Portal pages: MudBlazor set up the way it needs to be outside a browser, the real
/// services over an in-memory SQLite <see cref="TestDatabase"/>, and a signed-in user whose
/// roles decide both the actor the page sees and the policies <c>AuthorizeView</c> sees.
/// </summary>
public abstract class PortalBunitContext : BunitContext, IAsyncLifetime
{
    private BunitAuthorizationContext? _auth;

    protected TestDatabase Db { get; private set; } = default!;

    /// <summary>The state pages persist at the end of a prerender (<see cref="BunitPersistentComponentState.TriggerOnPersisting"/>).</summary>
    protected BunitPersistentComponentState PersistentState { get; private set; } = default!;

    public virtual async ValueTask InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        // MudBlazor calls JS for popovers, focus and resize; none of that matters to markup assertions.
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(o => Portal.Web.Components.Layout.PortalSnackbars.Configure(o.SnackbarConfiguration));
        // The same instances the TestDatabase built, so a test can seed through Db and assert through the page.
        // MudBlazor picks up this TimeProvider too: its debounced inputs fire only when a test advances Db.Clock.
        Services.AddSingleton(Db.Get<TimeProvider>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Verification.VerificationService>());
        Services.AddSingleton(Db.Get<UserService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Profile.TwoFactorService>());
        Services.AddSingleton(Db.Get<OrganisationService>());
        Services.AddSingleton(Db.Get<AuditService>());
        Services.AddSingleton(Db.Get<PasswordPolicy>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Applications.ApplicationService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Accounts.AccountService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Products.ProductService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Products.PlanWhatIfService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Subscriptions.SubscriptionService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Quotas.SubscriptionUsageService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.ApiKeys.ApiKeyService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Webhooks.WebhookService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Usage.UsageService>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Usage.UsageRecorder>());
        Services.AddSingleton(Db.Get<Portal.Core.Features.Gateway.GatewayRoutes>());
        Services.AddSingleton(Db.Get<Microsoft.Extensions.Options.IOptions<Portal.Core.PortalOptions>>());
        Services.AddSingleton(new Portal.Web.Features.Gateway.TryItTickets(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider()));
        Services.AddSingleton<Portal.Web.Features.Gateway.GatewayCaller>();
        Services.AddScoped<Portal.Web.Infrastructure.CircuitClient>();
        Services.AddSingleton<Portal.Web.Features.Applications.FirstKeyHandoff>();
        _auth = AddAuthorization();
        // Pages take the Actor MainLayout cascades; every render here gets it from the same component, so it
        // follows SignInAs as it follows the circuit's authentication state.
        RenderTree.Add<Portal.Web.Components.Layout.ActorProvider>();
        // What the prerender hands to the interactive render (PersistentComponentState), as the host has it.
        PersistentState = AddBunitPersistentComponentState();
        AddPageServices();
        // Pages read RendererInfo to tell prerendering from the live circuit. Last: it builds the
        // renderer, after which bUnit accepts no more services.
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    /// <summary>Services one page needs beyond the common ones; called before the renderer is built.</summary>
    protected virtual void AddPageServices()
    {
    }

    /// <summary>Signs in as <paramref name="actor"/>: claims as the cookie sign-in issues them, and a policy per permission held.</summary>
    protected Actor SignInAs(Actor actor, string? displayName = null)
    {
        var auth = _auth ?? throw new InvalidOperationException("Call InitializeAsync first.");
        auth.SetAuthorized(actor.Email);
        auth.SetRoles([.. actor.Roles]);
        auth.SetPolicies([.. actor.Permissions.Select(p => p.ToString())]);
        // After roles and policies: in bUnit 2.15 those calls rebuild the principal and drop claims set earlier.
        auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, actor.UserId.ToString()),
            new Claim(ClaimTypes.Email, actor.Email),
            new Claim(PortalClaims.DisplayName, displayName ?? actor.Email));
        return actor;
    }

    /// <summary>
    /// Renders a page with the providers MainLayout would give it, so popovers, dialogs and snackbars appear in the
    /// markup; <paramref name="parameters"/> are its route parameters (<c>("Id", id)</c>).
    /// </summary>
    protected IRenderedComponent<ContainerFragment> RenderWithProviders<TPage>(params (string Name, object? Value)[] parameters) where TPage : IComponent =>
        Render(builder =>
        {
            builder.OpenComponent<MudPopoverProvider>(0);
            builder.CloseComponent();
            builder.OpenComponent<MudDialogProvider>(1);
            builder.CloseComponent();
            builder.OpenComponent<MudSnackbarProvider>(2);
            builder.CloseComponent();
            builder.OpenComponent<TPage>(3);
            foreach (var (name, value) in parameters) builder.AddAttribute(4, name, value);
            builder.CloseComponent();
        });

    protected override async ValueTask DisposeAsyncCore()
    {
        // Components first: a grid still loading must not find its database gone.
        await base.DisposeAsyncCore();
        if (Db is not null) await Db.DisposeAsync();
    }
}
