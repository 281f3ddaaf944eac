using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Common;
using Portal.Core.Features.Verification;
using Portal.Web.Features.Usage;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Verification;

public static class VerificationEndpoints
{
    public static void MapVerificationEndpoints(this IEndpointRouteBuilder app)
    {
        var anonymous = app.ServiceProvider.GetRequiredService<IOptions<PortalOptions>>().Value.Verification.AllowAnonymous;
        var verify = app.MapApiGroup("/keys", "Key verification")
            .MapPost("/verify", Verify)
            .WithName("VerifyKey")
            .WithSummary("May this key call this product now? Counts the call when it may")
            .WithDescription(
                "For an API gateway: checks, in this order, the key (NOT_FOUND, REVOKED, EXPIRED, DISABLED), an APPROVED " +
                "subscription of its application to the product (NOT_SUBSCRIBED; an unknown product is NOT_FOUND), the plan's " +
                "rate limit (RATE_LIMITED) and quota (QUOTA_EXCEEDED). Always 200 with the code: the gateway answers its own " +
                "client. A refused call consumes nothing. `headers` holds what the gateway passes on (Retry-After, " +
                "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset). Needs a key with the `read` scope unless " +
                "Portal:Verification:AllowAnonymous is set.")
            .Produces<VerifyResult>()
            // The service records each verification; the gateway's call is not recorded a second time.
            .WithMetadata(UsageRecordedByEndpoint.Instance)
            // Not under the per-key API limit: a gateway's one key asks for all its consumers, and the plans this
            // endpoint enforces are its limits (docs/security.md).
            .DisableRateLimiting();
        if (anonymous) verify.AllowAnonymous();
        else verify.RequirePermission(Permission.KeysVerify);
    }

    private static async Task<IResult> Verify(VerifyKey request, VerificationService verification, HttpContext http, CancellationToken ct)
    {
        // In anonymous mode the call is not authenticated at all: the caller is nobody, whatever it sends.
        var caller = http.User.Identity?.IsAuthenticated == true ? http.ToActor() : null;
        return (await verification.VerifyAsync(caller, request, ct, http.Origin())).ToHttpResult(ApiJsonContext.Default.VerifyResult);
    }
}
