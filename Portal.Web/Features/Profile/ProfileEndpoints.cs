using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Features.Profile;

public static class ProfileEndpoints
{
    public static void MapProfileEndpoints(this IEndpointRouteBuilder app)
    {
        var profile = app.MapApiGroup("/me/profile", "Me");
        profile.MapGet("/", async (ProfileService service, HttpContext http, CancellationToken ct) =>
                (await service.GetAsync(http.ToActor(), ct)).ToHttpResult())
            .RequirePermission(Permission.Self)
            .WithName("GetMyProfile").WithSummary("The calling user's profile; an application key gets 403")
            .Produces<ProfileDto>();
        profile.MapPatch("/", async (UpdateProfile request, ProfileService service, HttpContext http, CancellationToken ct) =>
                (await service.UpdateAsync(http.ToActor(), request, ct)).ToHttpResult())
            .RequirePermission(Permission.Self)
            .WithName("UpdateMyProfile").WithSummary("{displayName?}; an application key gets 403")
            .Produces<ProfileDto>();

        // "Sign out of every other session" is a real post (antiforgery checked): the browser that asked gets a new
        // cookie on the answer and stays signed in while every other session ends.
        app.MapPost(ProfilePaths.EndOtherSessions, async (HttpContext http, ProfileService service, SignInManager<PortalUser> signIn, CancellationToken ct) =>
            {
                var result = await service.SignOutOtherSessionsAsync(http.ToActor(), ct);
                if (!result.IsSuccess) return TypedResults.LocalRedirect(ProfilePaths.Page);
                await ThisSession.KeepAsync(http, signIn);
                return TypedResults.LocalRedirect($"{ProfilePaths.Page}?sessions=ended");
            })
            .RequireAuthorization().ExcludeFromDescription();
    }
}

public static class ProfilePaths
{
    public const string Page = "/account/profile";
    public const string ChangePassword = "/account/change-password";
    public const string TwoFactor = "/account/two-factor";
    public const string EndOtherSessions = "/account/profile/sessions";
}
