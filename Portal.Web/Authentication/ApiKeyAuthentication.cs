using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Web.Infrastructure;

namespace Portal.Web.Authentication;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";
}

/// <summary>
/// What a successful key check puts on the request: the key and the <see cref="Actor"/> it stands for, built once per
/// verified key rather than from the claims on every use, and the usual claims for anything that reads claims. The
/// API's own path (authorization, endpoints, usage recording) reads the actor and the key, so the claims are made
/// only when something asks for them: every member that reads or changes claims makes them first.
/// </summary>
public sealed class ApiKeyClaimsIdentity(KeyIdentity key, Actor actor, IReadOnlyList<(string Type, string Value)> claims, string authenticationType)
    : ClaimsIdentity(authenticationType)
{
    private IReadOnlyList<(string Type, string Value)>? _pending = claims;

    public KeyIdentity Key { get; } = key;

    /// <summary>The caller as the services see it, without an IP address (<see cref="ActorExtensions.ToActor(HttpContext)"/> adds it).</summary>
    public Actor Caller { get; } = actor;

    private void Make()
    {
        if (_pending is not { } pending) return;
        _pending = null;
        // Claims made for this identity are added as they are; claims made for none would each be copied.
        foreach (var (type, value) in pending) base.AddClaim(new Claim(type, value, null, null, null, this));
    }

    public override IEnumerable<Claim> Claims { get { Make(); return base.Claims; } }
    public override string? Name { get { Make(); return base.Name; } }
    public override ClaimsIdentity Clone() { Make(); return base.Clone(); }
    public override void AddClaim(Claim claim) { Make(); base.AddClaim(claim); }
    public override void AddClaims(IEnumerable<Claim?> claims) { Make(); base.AddClaims(claims); }
    public override void RemoveClaim(Claim? claim) { Make(); base.RemoveClaim(claim); }
    public override bool TryRemoveClaim(Claim? claim) { Make(); return base.TryRemoveClaim(claim); }
    public override IEnumerable<Claim> FindAll(string type) { Make(); return base.FindAll(type); }
    public override IEnumerable<Claim> FindAll(Predicate<Claim> match) { Make(); return base.FindAll(match); }
    public override Claim? FindFirst(string type) { Make(); return base.FindFirst(type); }
    public override Claim? FindFirst(Predicate<Claim> match) { Make(); return base.FindFirst(match); }
    public override bool HasClaim(string type, string value) { Make(); return base.HasClaim(type, value); }
    public override bool HasClaim(Predicate<Claim> match) { Make(); return base.HasClaim(match); }
    protected override void WriteTo(BinaryWriter writer, byte[]? userData) { Make(); base.WriteTo(writer, userData); }
}

/// <summary>
/// The one check of a presented API key (<c>Authorization: Bearer</c> or <c>X-Api-Key</c>, and for application keys
/// HTTP Basic with the key id as user name), used by the <see cref="ApiKeyAuthenticationHandler">scheme</see> and by
/// <see cref="ApiKeyPolicyEvaluator"/>, the API's own authorization path. An interface so tests can add identities.
/// </summary>
public interface IApiKeyAuthenticator
{
    /// <summary>Success with the key's principal, NoResult when no key was presented, Fail (with the reason, never the key) otherwise.</summary>
    Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string scheme);
}

public sealed class ApiKeyAuthenticator(ApiKeyService keys) : IApiKeyAuthenticator
{
    public async Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string scheme)
    {
        var presented = ReadCredentials(context.Request);
        if (presented is null) return AuthenticateResult.NoResult();
        var check = await keys.AuthenticateAsync(presented.Value.Key, context.RequestAborted);
        if (!check.IsValid) return AuthenticateResult.Fail($"API key refused: {check.Code}.");
        var identity = check.Identity!;
        // Basic is the seed's credential form (username = key id, password = key): application keys only, and the
        // user name must be that key's own id, so a key cannot be presented under another credential's name.
        if (presented.Value.BasicUserName is { } userName && (identity.ApplicationId is null || !IsKeyId(userName, identity.KeyId)))
            return AuthenticateResult.Fail("API key refused: the Basic user name is not this application key's id.");
        return AuthenticateResult.Success(new AuthenticationTicket(PrincipalFor(identity, scheme), scheme));
    }

    internal static ClaimsPrincipal PrincipalFor(KeyIdentity key, string scheme)
    {
        var prepared = Prepared.GetValue(key, static k => new PreparedKey(k));
        return new ClaimsPrincipal(new ApiKeyClaimsIdentity(key, prepared.Actor, prepared.Claims, scheme));
    }

    // The key cache hands out the same KeyIdentity for every call until the key or its owner changes (then a new
    // one), so what follows from it is worked out once per KeyIdentity instance and forgotten with it.
    private static readonly ConditionalWeakTable<KeyIdentity, PreparedKey> Prepared = new();

    private sealed class PreparedKey(KeyIdentity key)
    {
        public Actor Actor { get; } = key.ToActor();
        public (string Type, string Value)[] Claims { get; } = ClaimsOf(key);
    }

    private static (string Type, string Value)[] ClaimsOf(KeyIdentity identity)
    {
        // An application key has no user: no name identifier, no roles, no scopes; the application id says who calls.
        if (identity.ApplicationId is { } applicationId)
            return
            [
                (ClaimTypes.Name, identity.Email),
                (PortalClaims.KeyId, identity.KeyId.ToString()),
                (PortalClaims.ApplicationId, applicationId.ToString()),
                (PortalClaims.DisplayName, identity.DisplayName),
            ];
        return
        [
            (ClaimTypes.NameIdentifier, identity.UserId.ToString()),
            (ClaimTypes.Email, identity.Email),
            (ClaimTypes.Name, identity.Email),
            (PortalClaims.KeyId, identity.KeyId.ToString()),
            (PortalClaims.DisplayName, identity.DisplayName),
            .. identity.Roles.Select(r => (ClaimTypes.Role, r)),
            .. identity.Scopes.Select(s => (PortalClaims.Scope, s)),
        ];
    }

    /// <summary>The presented key, and for HTTP Basic the user name it came with.</summary>
    internal static (string Key, string? BasicUserName)? ReadCredentials(HttpRequest request)
    {
        if (request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var header) && !string.IsNullOrWhiteSpace(header))
            return (header.ToString().Trim(), null);
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim() is { Length: > 0 } bearer ? (bearer, null) : null;
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            var encoded = authorization["Basic ".Length..].Trim();
            var buffer = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded, buffer, out var length)) return null;
            var decoded = Encoding.UTF8.GetString(buffer, 0, length);
            var colon = decoded.IndexOf(':');
            if (colon < 1 || colon == decoded.Length - 1) return null;
            return (decoded[(colon + 1)..], decoded[..colon]);
        }
        return null;
    }

    // Constant time, so the comparison's duration says nothing about how much of the name matched.
    private static bool IsKeyId(string userName, Guid keyId) =>
        CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(userName.Trim().ToLowerInvariant()), Encoding.UTF8.GetBytes(keyId.ToString("D")));
}

/// <summary>
/// The API-key authentication scheme: authenticates through <see cref="IApiKeyAuthenticator"/> for anything that asks
/// the scheme (the framework's policy evaluation, <c>HttpContext.AuthenticateAsync</c>), and answers challenges and
/// refusals with problem details, never a redirect. The browser cookie never authenticates <c>/api</c>.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problemDetails,
    IApiKeyAuthenticator authenticator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    // The failure message is logged by the framework: it names the reason, never the presented key.
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => authenticator.AuthenticateAsync(Context, Scheme.Name);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Bearer realm=\"portal\", ApiKey header=\"{ApiKeyDefaults.HeaderName}\"";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            "A valid API key is required: send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            "This key's scopes, or its owner's roles, do not allow this action.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
