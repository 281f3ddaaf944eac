using Microsoft.AspNetCore.Components.Endpoints;
using Portal.Core.Features.Profile;
using Portal.Web.Features.Profile;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Account;

/// <summary>
/// <c>Portal:Security:RequireTwoFactorForAdmins</c>: a signed-in super-admin or admin without two-factor sign-in who
/// opens any page, or downloads one of the pages' CSV exports (they hold what the pages show), is sent to set it up
/// first. Browsers only: the API and anything else called with a key is not concerned.
/// The set-up page is a static page with no in-app navigation, so every way out is a page load that passes here; the
/// account pages (sign-in, sign-out, password) stay reachable.
/// </summary>
public sealed class TwoFactorEnrolmentGate(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, TwoFactorService twoFactor)
    {
        if (IsPageOrExport(http) && http.User.Identity?.IsAuthenticated == true && !IsAccountPage(http.Request.Path))
        {
            var actor = http.ToActor();
            if (actor.KeyId is null && await twoFactor.MustEnrolAsync(actor.UserId, actor.Roles, http.RequestAborted))
            {
                http.Response.Redirect(ProfilePaths.TwoFactor);
                return;
            }
        }
        await next(http);
    }

    private static bool IsPageOrExport(HttpContext http) =>
        (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        && http.GetEndpoint()?.Metadata is { } metadata
        && (metadata.GetMetadata<ComponentTypeMetadata>() is not null || metadata.GetMetadata<Exports.ExportEndpoints.CsvOnly>() is not null);

    // The profile is an account page too, but its place is behind the gate: it offers everything else from there.
    private static bool IsAccountPage(PathString path) =>
        path.StartsWithSegments("/account") && !path.StartsWithSegments(ProfilePaths.Page);
}
