using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Portal.Core.Features.ApiKeys;

namespace Portal.Web.Infrastructure;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string HeaderName = "X-Api-Key";
}

/// <summary>
/// Authenticates <c>/api</c> calls by API key (<c>Authorization: Bearer</c> or <c>X-Api-Key</c>); the browser cookie never does.
/// Challenges and refusals answer with problem details, never a redirect.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problemDetails,
    ApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadKey(Request);
        if (presented is null) return AuthenticateResult.NoResult();
        var check = await keys.AuthenticateAsync(presented, Context.RequestAborted);
        // The failure message is logged by the framework: it names the reason, never the presented key.
        if (!check.IsValid) return AuthenticateResult.Fail($"API key refused: {check.Code}.");
        var identity = check.Identity!;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, identity.UserId.ToString()),
            new(ClaimTypes.Email, identity.Email),
            new(ClaimTypes.Name, identity.Email),
            new(PortalClaims.KeyId, identity.KeyId.ToString()),
            new(PortalClaims.DisplayName, identity.DisplayName),
        };
        claims.AddRange(identity.Roles.Select(r => new Claim(ClaimTypes.Role, r)));
        claims.AddRange(identity.Scopes.Select(s => new Claim(PortalClaims.Scope, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    internal static string? ReadKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(ApiKeyDefaults.HeaderName, out var header) && !string.IsNullOrWhiteSpace(header))
            return header.ToString().Trim();
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim() is { Length: > 0 } bearer ? bearer : null;
        return null;
    }

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
