using System.Runtime.CompilerServices;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Portal.Web.Infrastructure;

namespace Portal.Web.Authentication;

/// <summary>
/// The authorization middleware's policy evaluator, with a direct path for the API's own policies: a policy that
/// authenticates by API key only and asks for nothing but an authenticated caller and <see cref="PermissionRequirement"/>s
/// (every <c>/api/v1</c> endpoint) is decided here, from the key's prepared actor, with no per-request services.
/// Everything else (the pages' cookie policies, any other requirement) goes to the framework's
/// <see cref="PolicyEvaluator"/>, unchanged.
/// </summary>
/// <remarks>
/// Same outcome as the framework: the key is checked by the same <see cref="IApiKeyAuthenticator"/> the scheme uses,
/// the principal replaces <see cref="HttpContext.User"/>, no key or a refused key is a challenge (401), a key without
/// the permission is a refusal (403); challenges and refusals are still answered by the scheme's handler. What it saves
/// is per call: the framework resolves an authentication service, a handler provider and a new scheme handler, an
/// authorization service with its handler enumeration and contexts, and merges the principal into a new one; on two
/// cores that was a measurable part of an authenticated call's cost (docs/benchmarks.md).
/// </remarks>
public sealed class ApiKeyPolicyEvaluator(IApiKeyAuthenticator authenticator, ILogger<ApiKeyPolicyEvaluator> logger) : IPolicyEvaluator
{
    public async Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
    {
        if (!IsApiKeyPolicy(policy)) return await Framework(context).AuthenticateAsync(policy, context);
        var result = await authenticator.AuthenticateAsync(context, ApiKeyDefaults.Scheme);
        if (result.Succeeded)
        {
            context.User = result.Principal;
            return result;
        }
        // As the framework: an unauthenticated caller is an empty principal and the result says nothing more.
        // The reason is logged as the scheme's handler would (it names the reason, never the presented key).
        if (result.Failure is { } failure) LogRefused(logger, ApiKeyDefaults.Scheme, failure.Message, null);
        context.User = new ClaimsPrincipal(new ClaimsIdentity());
        return AuthenticateResult.NoResult();
    }

    public Task<PolicyAuthorizationResult> AuthorizeAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        if (!IsApiKeyPolicy(policy)) return Framework(context).AuthorizeAsync(policy, authenticationResult, context, resource);
        if (!authenticationResult.Succeeded || context.User.Identity?.IsAuthenticated != true)
            return Task.FromResult(PolicyAuthorizationResult.Challenge());
        var actor = context.User.ToActor();
        List<IAuthorizationRequirement>? unmet = null;
        foreach (var requirement in policy.Requirements)
        {
            if (requirement is PermissionRequirement permission && !permission.IsMetBy(actor))
                (unmet ??= []).Add(requirement);
        }
        if (unmet is null) return Task.FromResult(PolicyAuthorizationResult.Success());
        LogForbidden(logger, string.Join(", ", unmet.OfType<PermissionRequirement>().SelectMany(r => r.AnyOf)), null);
        return Task.FromResult(PolicyAuthorizationResult.Forbid(AuthorizationFailure.Failed(unmet)));
    }

    /// <summary>
    /// Decided here when the key scheme is the only scheme and every requirement is one this class knows: an
    /// authenticated caller (met by any key) or a permission. Worked out once per policy object: the middleware
    /// caches each endpoint's combined policy.
    /// </summary>
    private static bool IsApiKeyPolicy(AuthorizationPolicy policy) => Known.GetValue(policy, static p => new StrongBox<bool>(
        p.AuthenticationSchemes is [ApiKeyDefaults.Scheme]
        && p.Requirements.All(r => r is PermissionRequirement or DenyAnonymousAuthorizationRequirement))).Value;

    private static readonly ConditionalWeakTable<AuthorizationPolicy, StrongBox<bool>> Known = new();

    private static PolicyEvaluator Framework(HttpContext context) => context.RequestServices.GetRequiredService<PolicyEvaluator>();

    private static readonly Action<ILogger, string, string, Exception?> LogRefused = LoggerMessage.Define<string, string>(
        LogLevel.Information, new EventId(7, "AuthenticationSchemeNotAuthenticatedWithFailure"),
        "{AuthenticationScheme} was not authenticated. Failure message: {FailureMessage}");

    private static readonly Action<ILogger, string, Exception?> LogForbidden = LoggerMessage.Define<string>(
        LogLevel.Information, new EventId(2, "UserAuthorizationFailed"),
        "Authorization failed: the key holds none of the permissions {Permissions} this endpoint needs.");
}
