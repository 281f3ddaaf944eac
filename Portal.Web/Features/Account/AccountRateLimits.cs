using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Portal.Core;

namespace Portal.Web.Features.Account;

/// <summary>
/// Form posts per client address of the pages anyone can post to without signing in: sign-in
/// (<c>Portal:SignIn:PermitLimit</c> per <c>…:WindowMinutes</c>), sign-up (<c>Portal:SignUp:…</c>), forgot password
/// and the confirmation email's resend (<c>Portal:PasswordReset:…</c>), each a fixed window. Reading a form is never limited; a refused post answers 429 with
/// a page that says why and links back. The per-account side lives with each form's rule: sign-in's lockout per account
/// and address (<see cref="Portal.Core.Features.Users.SignInLockout"/>), sign-up's posts per email, reset emails per address.
/// </summary>
public static class AccountRateLimits
{
    public const string SignIn = "signin";
    public const string SignUp = "signup";
    public const string ForgotPassword = "forgot-password";
    public const string ConfirmationResend = "confirmation-resend";

    public static IServiceCollection AddAccountRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(o =>
        {
            o.AddPolicy(SignIn, new FormPostLimit(SignIn, p => (p.SignIn.PermitLimit, p.SignIn.WindowMinutes),
                "Too many sign-in attempts", "Too many sign-in attempts from your network. Wait a few minutes and try again.",
                "/account/login", "Back to sign-in"));
            o.AddPolicy(SignUp, new FormPostLimit(SignUp, p => (p.SignUp.PermitLimit, p.SignUp.WindowMinutes),
                "Too many sign-up attempts", "Too many sign-up attempts from your network. Wait a few minutes and try again.",
                "/account/signup", "Back to sign-up"));
            o.AddPolicy(ForgotPassword, new FormPostLimit(ForgotPassword, p => (p.PasswordReset.PermitLimit, p.PasswordReset.WindowMinutes),
                "Too many requests", "Too many password reset requests from your network. Wait a few minutes and try again.",
                "/account/login", "Back to sign-in"));
            // "Resend the confirmation email": the forgot-password form's limit, counted apart. Per address the service
            // itself sends at most Portal:SignUp:ConfirmationsPerHour messages, silently.
            o.AddPolicy(ConfirmationResend, new FormPostLimit(ConfirmationResend, p => (p.PasswordReset.PermitLimit, p.PasswordReset.WindowMinutes),
                "Too many requests", "Too many confirmation emails asked for from your network. Wait a few minutes and try again.",
                "/account/login", "Back to sign-in"));
        });

    /// <summary>One page's posts per client address (the real one: forwarded headers are applied before this runs).</summary>
    private sealed class FormPostLimit(string name, Func<PortalOptions, (int PermitLimit, int WindowMinutes)> limits,
        string title, string message, string backHref, string backText) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, ct) =>
        {
            var response = context.HttpContext.Response;
            response.StatusCode = StatusCodes.Status429TooManyRequests;
            var window = limits(context.HttpContext.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value).WindowMinutes;
            response.Headers.RetryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                ? ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture)
                : (Math.Max(1, window) * 60).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + WebUtility.HtmlEncode(title) + " · Portal</title>" +
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/app.css\"></head>" +
                "<body><div class=\"account-shell\"><div class=\"account-card\"><h1 style=\"font-size:1.25rem\">" + WebUtility.HtmlEncode(title) + "</h1>" +
                "<div class=\"account-alert\" role=\"alert\">" + WebUtility.HtmlEncode(message) + "</div>" +
                "<div class=\"account-footer\"><a href=\"" + backHref + "\">" + WebUtility.HtmlEncode(backText) + "</a></div></div></div></body></html>", ct);
        };

        public RateLimitPartition<string> GetPartition(HttpContext http)
        {
            if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
            var (permitLimit, windowMinutes) = limits(http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value);
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return RateLimitPartition.GetFixedWindowLimiter($"{name} {address}", _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(1, permitLimit),
                Window = TimeSpan.FromMinutes(Math.Max(1, windowMinutes)),
                QueueLimit = 0,
            });
        }
    }
}
