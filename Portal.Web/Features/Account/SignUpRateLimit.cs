using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Portal.Core;

namespace Portal.Web.Features.Account;

/// <summary>
/// Sign-up form posts per client address in a fixed window (<c>Portal:SignUp:PermitLimit</c> per
/// <c>Portal:SignUp:WindowMinutes</c>). Reading the form is never limited; a refused post answers 429 with a page that says why.
/// </summary>
public static class SignUpRateLimit
{
    public const string Policy = "signup";

    public static IServiceCollection AddSignUpRateLimit(this IServiceCollection services) =>
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                var response = context.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                response.ContentType = "text/html; charset=utf-8";
                await response.WriteAsync(
                    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Portal</title>" +
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/app.css\"></head>" +
                    "<body><div class=\"account-shell\"><div class=\"account-card\"><h1 style=\"font-size:1.25rem\">Too many sign-up attempts</h1>" +
                    "<div class=\"account-alert\" role=\"alert\">Too many sign-up attempts from your network. Wait a few minutes and try again.</div>" +
                    "<div class=\"account-footer\"><a href=\"/account/signup\">Back to sign-up</a></div></div></div></body></html>", ct);
            };
            o.AddPolicy(Policy, http =>
            {
                if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
                var signUp = http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value.SignUp;
                var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, signUp.PermitLimit),
                    Window = TimeSpan.FromMinutes(Math.Max(1, signUp.WindowMinutes)),
                    QueueLimit = 0,
                });
            });
        });
}
