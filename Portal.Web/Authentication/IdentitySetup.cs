using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;

namespace Portal.Web.Authentication;

public static class IdentitySetup
{
    public static IServiceCollection AddPortalIdentity(this IServiceCollection services)
    {
        services.AddAuthentication(IdentityConstants.ApplicationScheme)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(o =>
            {
                o.LoginPath = "/account/login";
                o.LogoutPath = "/account/logout";
                o.AccessDeniedPath = "/account/access-denied";
                o.Cookie.Name = "portal.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.Events.OnValidatePrincipal = ValidateCookieAsync;
            }));
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddSingleton<IApiKeyAuthenticator, ApiKeyAuthenticator>();

        services.AddIdentityCore<PortalUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.SignIn.RequireConfirmedAccount = false;
                // Failed sign-ins lock an account per client address (SignInLockout), not through Identity's
                // per-account count; a lock Identity holds (LockoutEnd, from before) is still honoured until it ends.
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.Password.RequiredLength = 8;
            })
            .AddRoles<PortalRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager<PortalSignInManager>()
            .AddClaimsPrincipalFactory<PortalClaimsFactory>()
            .AddDefaultTokenProviders()
            .AddEmailConfirmationTokens();
        // An unconfirmed sign-up is refused at sign-in only while confirmation is required.
        services.AddOptions<IdentityOptions>().Configure<IOptions<Portal.Core.PortalOptions>>((o, portal) =>
            o.SignIn.RequireConfirmedEmail = portal.Value.SignUp.RequireConfirmedEmail);
        services.AddSingleton<UnknownAccountHash>();

        // Deactivation, role changes and password resets change the security stamp. A cookie is checked against the
        // stored stamp once a minute, and on its next request when this instance saw its user's stamp change since it
        // was issued (ValidateCookieAsync): a cookie issued within the minute kept its roles otherwise, e.g. after its
        // holder lowered their own roles.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = SignInChanges.CookieCheckInterval);
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
        return services;
    }

    /// <summary>
    /// Identity's stamp check, made due at once for a cookie issued before a change of its user's stamp seen here (a
    /// cookie without an issue time is always checked). A cookie that passes gets its issue time back, so the handler
    /// re-issues it from now and the next request is not checked again.
    /// </summary>
    private static async Task ValidateCookieAsync(CookieValidatePrincipalContext context)
    {
        var services = context.HttpContext.RequestServices;
        var userIdClaim = services.GetRequiredService<IOptions<IdentityOptions>>().Value.ClaimsIdentity.UserIdClaimType;
        var issued = context.Properties.IssuedUtc;
        var due = Guid.TryParse(context.Principal?.FindFirstValue(userIdClaim), out var userId)
            && services.GetRequiredService<SignInChanges>().ChangedSince(userId, issued);
        if (due) context.Properties.IssuedUtc = null;
        await SecurityStampValidator.ValidatePrincipalAsync(context);
        if (due && context.Principal is not null) context.Properties.IssuedUtc = issued;
    }
}

/// <summary>
/// Inactive users are refused. Every password sign-in costs one password hash, whether the email is unknown, the account
/// locked or inactive, or the password wrong, so the time of the answer does not tell which accounts exist.
/// </summary>
public sealed class PortalSignInManager(
    UserManager<PortalUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<PortalUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<PortalUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<PortalUser> confirmation,
    UnknownAccountHash unknownAccount,
    SignInLockout lockout)
    : SignInManager<PortalUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <summary>
    /// After a sign-in refused before its password counted (locked, inactive): whether the password was right anyway.
    /// Only its holder learns from it that the account is inactive.
    /// </summary>
    public bool RefusedWithRightPassword { get; private set; }

    /// <summary>The account of such a refusal, so the page can say why (inactive, or its email still to confirm).</summary>
    public PortalUser? RefusedUser { get; private set; }

    public override async Task<bool> CanSignInAsync(PortalUser user) =>
        user.Status == UserStatus.Active && await base.CanSignInAsync(user);

    /// <summary>
    /// Locks out per account and client address (<see cref="SignInLockout"/>), never the account as a whole:
    /// <paramref name="lockoutOnFailure"/> is ignored, Identity's own failure count is not kept.
    /// </summary>
    public override async Task<SignInResult> PasswordSignInAsync(string userName, string password, bool isPersistent, bool lockoutOnFailure)
    {
        RefusedWithRightPassword = false;
        // A name no account can have (a control character; PostgreSQL could not even compare a NUL) is not looked up.
        var user = TextRules.FirstForbidden(userName) is null ? await UserManager.FindByNameAsync(userName) : null;
        var address = Context.Connection.RemoteIpAddress?.ToString();
        if (await lockout.IsLockedAsync(userName, address))
        {
            // Hashed all the same: a locked address takes as long to refuse as any other attempt.
            if (user is null) unknownAccount.Verify(UserManager.PasswordHasher, password);
            else await UserManager.CheckPasswordAsync(user, password);
            return SignInResult.LockedOut;
        }
        SignInResult result;
        if (user is not null) result = await PasswordSignInAsync(user, password, isPersistent, lockoutOnFailure: false);
        else
        {
            unknownAccount.Verify(UserManager.PasswordHasher, password);
            result = SignInResult.Failed;
        }
        if (result.Succeeded) await lockout.SucceededAsync(userName, address);
        // An inactive account's right password is no guess; any other refusal counts (unknown emails too, alike).
        else if (!RefusedWithRightPassword && await lockout.FailedAsync(userName, address)) return SignInResult.LockedOut;
        return result;
    }

    public override async Task<SignInResult> CheckPasswordSignInAsync(PortalUser user, string password, bool lockoutOnFailure)
    {
        RefusedWithRightPassword = false;
        if (await PreSignInCheck(user) is { } refused)
        {
            // Identity answers these before hashing: hash anyway, as for every other attempt.
            RefusedWithRightPassword = await UserManager.CheckPasswordAsync(user, password);
            RefusedUser = RefusedWithRightPassword ? user : null;
            return refused;
        }
        return await base.CheckPasswordSignInAsync(user, password, lockoutOnFailure);
    }

    /// <summary>
    /// Identity neither checks the lockout before a recovery code nor counts a wrong one: here a locked account is
    /// refused and a wrong recovery code counts towards the lockout, as a wrong authenticator code does.
    /// </summary>
    public override async Task<SignInResult> TwoFactorRecoveryCodeSignInAsync(string recoveryCode)
    {
        var user = await GetTwoFactorAuthenticationUserAsync();
        if (user is null) return SignInResult.Failed;
        if (await UserManager.IsLockedOutAsync(user)) return SignInResult.LockedOut;
        var result = await base.TwoFactorRecoveryCodeSignInAsync(recoveryCode);
        if (result.Succeeded) return result;
        await UserManager.AccessFailedAsync(user);
        return await UserManager.IsLockedOutAsync(user) ? SignInResult.LockedOut : result;
    }
}

/// <summary>
/// A password hash of no account, made once with the configured hasher (same algorithm, same iterations): verifying a
/// password against it costs what checking a real account's password costs.
/// </summary>
public sealed class UnknownAccountHash
{
    private readonly PortalUser _nobody = new();
    private string? _hash;

    public void Verify(IPasswordHasher<PortalUser> hasher, string password)
    {
        _hash ??= hasher.HashPassword(_nobody, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)));
        hasher.VerifyHashedPassword(_nobody, _hash, password ?? "");
    }
}

public sealed class PortalClaimsFactory(UserManager<PortalUser> userManager, RoleManager<PortalRole> roleManager, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<PortalUser, PortalRole>(userManager, roleManager, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(PortalUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(PortalClaims.DisplayName, user.DisplayName));
        if (!identity.HasClaim(c => c.Type == ClaimTypes.Email)) identity.AddClaim(new Claim(ClaimTypes.Email, user.Email ?? ""));
        return identity;
    }
}

/// <summary>
/// A Blazor circuit outlives the cookie check: re-check the user's stamp and status every minute, and at once when
/// <see cref="SignInChanges"/> says this user's stamp changed (the circuit then signs out, and the sign-in page
/// it is sent to finds the old cookie refused too).
/// </summary>
internal sealed class RevalidatingIdentityStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private readonly IServiceScopeFactory _scopeFactory;
    private readonly IOptions<IdentityOptions> _options;
    private readonly SignInChanges _signIns;
    private readonly ILogger _logger;

    public RevalidatingIdentityStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopeFactory, IOptions<IdentityOptions> options, SignInChanges signIns)
        : base(loggerFactory)
    {
        (_scopeFactory, _options, _signIns) = (scopeFactory, options, signIns);
        _logger = loggerFactory.CreateLogger<RevalidatingIdentityStateProvider>();
        _signIns.StampChanged += OnStampChanged;
    }

    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    private bool _keepThisSession;

    /// <summary>
    /// For a static page that changes its own user's stamp and re-issues the cookie in the same request (the password
    /// change): the change must not sign out the very render that is handing out the new cookie.
    /// </summary>
    internal void KeepThisSession() => _keepThisSession = true;

    private void OnStampChanged(Guid userId)
    {
        if (!_keepThisSession) _ = RevalidateNowAsync(userId);
    }

    private async Task RevalidateNowAsync(Guid userId)
    {
        try
        {
            var state = await GetAuthenticationStateAsync();
            var id = state.User.FindFirstValue(_options.Value.ClaimsIdentity.UserIdClaimType);
            if (id is null || !Guid.TryParse(id, out var signedIn) || signedIn != userId) return;
            if (await ValidateAuthenticationStateAsync(state, CancellationToken.None)) return;
            NotifyAuthenticationStateChanged(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
        catch (Exception e)
        {
            // The periodic check still runs; a failure here only delays the sign-out to it.
            _logger.LogWarning(e, "Could not re-check the session of user {UserId} after a change", userId);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _signIns.StampChanged -= OnStampChanged;
        base.Dispose(disposing);
    }

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        try
        {
            return await IsStillValidAsync(state);
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping and its services are gone before this circuit is: nothing to re-check any more.
            // Answering "invalid" would re-render the circuit as signed out against a disposed container.
            return true;
        }
    }

    private async Task<bool> IsStillValidAsync(AuthenticationState state)
    {
        await using var scope = _scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var user = await users.GetUserAsync(state.User);
        if (user is null || user.Status != UserStatus.Active) return false;
        if (!users.SupportsUserSecurityStamp) return true;
        var stamp = state.User.FindFirstValue(_options.Value.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await users.GetSecurityStampAsync(user);
    }
}

/// <summary>
/// The email-confirmation link's token: Identity's data-protection token with a lifetime of its own
/// (<see cref="Portal.Core.Features.Profile.EmailConfirmationService.LinkLifetime"/>), longer than a password reset's hour.
/// </summary>
public sealed class EmailConfirmationTokenProvider(
    Microsoft.AspNetCore.DataProtection.IDataProtectionProvider protection,
    IOptions<EmailConfirmationTokenProviderOptions> options,
    ILogger<DataProtectorTokenProvider<PortalUser>> logger)
    : DataProtectorTokenProvider<PortalUser>(protection, options, logger);

public sealed class EmailConfirmationTokenProviderOptions : DataProtectionTokenProviderOptions
{
    public EmailConfirmationTokenProviderOptions()
    {
        Name = Portal.Core.Features.Profile.EmailConfirmationService.TokenProvider;
        TokenLifespan = Portal.Core.Features.Profile.EmailConfirmationService.LinkLifetime;
    }
}

public static class EmailConfirmationTokens
{
    public static IdentityBuilder AddEmailConfirmationTokens(this IdentityBuilder identity)
    {
        identity.AddTokenProvider<EmailConfirmationTokenProvider>(Portal.Core.Features.Profile.EmailConfirmationService.TokenProvider);
        identity.Services.Configure<IdentityOptions>(o =>
            o.Tokens.EmailConfirmationTokenProvider = Portal.Core.Features.Profile.EmailConfirmationService.TokenProvider);
        return identity;
    }
}

/// <summary>Keeps the browser that asked signed in after its user's security stamp changed (the other sessions end).</summary>
public static class ThisSession
{
    /// <summary>
    /// Re-issues this browser's cookie with the stored stamp. This request's cookie check may have loaded the user into
    /// Identity's context before a service changed the stamp in a context of its own: the user is read again, or the new
    /// cookie would carry the old stamp and this session would end too.
    /// </summary>
    public static async Task KeepAsync(HttpContext http, SignInManager<PortalUser> signIn)
    {
        var user = await signIn.UserManager.GetUserAsync(http.User);
        if (user is null) return;
        var entry = http.RequestServices.GetRequiredService<PortalDbContext>().Entry(user);
        if (entry.State != Microsoft.EntityFrameworkCore.EntityState.Detached) await entry.ReloadAsync();
        await signIn.RefreshSignInAsync(user);
    }
}
