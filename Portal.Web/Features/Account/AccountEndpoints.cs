using Microsoft.AspNetCore.Identity;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Account;

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app) =>
        // A form post (antiforgery checked): a link or an image tag cannot sign anyone out.
        app.MapPost("/account/logout", async ([Microsoft.AspNetCore.Mvc.FromForm] string? returnUrl, HttpContext http, SignInManager<PortalUser> signIn, UserService users) =>
            {
                var actor = http.ToActor();
                await signIn.SignOutAsync();
                if (actor.UserId != Guid.Empty)
                    await users.RecordSignInAsync(actor.Email, SignInOutcome.SignedOut, actor.IpAddress);
                return TypedResults.LocalRedirect("/account/login");
            })
            .ExcludeFromDescription();
}
