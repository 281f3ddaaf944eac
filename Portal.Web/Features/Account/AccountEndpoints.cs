using Microsoft.AspNetCore.Identity;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Account;

public static class AccountEndpoints
{
    public const string ResendConfirmationPath = "/account/confirm-email/resend";

    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
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

        // The sign-in page offers it to whoever gave an unconfirmed account's right password, but anyone can post any
        // address: the request is only queued, so the answer is the same, in the same time, for every address.
        app.MapPost(ResendConfirmationPath, ([Microsoft.AspNetCore.Mvc.FromForm] string? email, HttpContext http, EmailConfirmationService confirmations) =>
            {
                var linkBase = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
                confirmations.RequestResend(new ResendConfirmation { Email = email ?? "" }, linkBase, http.Connection.RemoteIpAddress?.ToString());
                return TypedResults.LocalRedirect("/account/login?confirmation=sent");
            })
            .RequireRateLimiting(AccountRateLimits.ConfirmationResend)
            .AllowAnonymous()
            .ExcludeFromDescription();
    }
}
