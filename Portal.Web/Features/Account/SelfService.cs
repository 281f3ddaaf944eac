using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Features.Email;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;

namespace Portal.Web.Features.Account;

/// <summary>Profile, email, forgot password and email confirmation: the background senders, the reset link's lifetime, the resend form's rate limit (the other forms': AccountRateLimits).</summary>
public static class SelfService
{
    public static IServiceCollection AddSelfService(this IServiceCollection services)
    {
        services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = PasswordResetService.LinkLifetime);
        services.AddSingleton<ISignInClient, HttpSignInClient>();
        services.AddHostedService<EmailDispatcherService>();
        services.AddHostedService<PasswordResetQueueService>();
        services.AddRateLimiter(o => o.AddPolicy<string, ConfirmationResendRateLimit>(ConfirmationResendRateLimit.Policy));
        return services;
    }
}

public sealed class EmailDispatcherService(EmailDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}

public sealed class PasswordResetQueueService(PasswordResetService resets) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => resets.RunAsync(stoppingToken);
}

/// <summary>The browser behind the sign-in being recorded (a static page's request).</summary>
public sealed class HttpSignInClient(IHttpContextAccessor http) : ISignInClient
{
    public string? UserAgent => http.HttpContext?.Request.Headers.UserAgent.ToString();
}

/// <summary>
/// Forgot-password posts per client address in a fixed window (<c>Portal:PasswordReset:PermitLimit</c> per
/// <c>Portal:PasswordReset:WindowMinutes</c>); a refused post answers 429 with a page that says why. Per email, the
/// service itself sends at most <c>PerEmailLimit</c> messages in the window, silently (the answer must not differ).
/// </summary>
public sealed class ForgotPasswordRateLimit(IOptions<PortalOptions> options) : IRateLimiterPolicy<string>
{
    public const string Policy = "forgot-password";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, ct) =>
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Portal</title>" +
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/app.css\"></head>" +
            "<body><div class=\"account-shell\"><div class=\"account-card\"><h1 style=\"font-size:1.25rem\">Too many requests</h1>" +
            "<div class=\"account-alert\" role=\"alert\">Too many password reset requests from your network. Wait a few minutes and try again.</div>" +
            "<div class=\"account-footer\"><a href=\"/account/login\">Back to sign-in</a></div></div></div></body></html>", ct);
    };

    public RateLimitPartition<string> GetPartition(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
        var limits = options.Value.PasswordReset;
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, limits.PermitLimit),
            Window = TimeSpan.FromMinutes(Math.Max(1, limits.WindowMinutes)),
            QueueLimit = 0,
        });
    }
}

/// <summary>
/// "Resend the confirmation email" posts per client address, in the forgot-password form's window and limit
/// (<c>Portal:PasswordReset:PermitLimit</c> per <c>WindowMinutes</c>); per address, the service itself sends at most
/// <c>Portal:SignUp:ConfirmationsPerHour</c> messages, silently.
/// </summary>
public sealed class ConfirmationResendRateLimit(IOptions<PortalOptions> options) : IRateLimiterPolicy<string>
{
    public const string Policy = "confirmation-resend";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (context, ct) =>
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.ContentType = "text/html; charset=utf-8";
        await response.WriteAsync(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many attempts · Portal</title>" +
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"stylesheet\" href=\"/app.css\"></head>" +
            "<body><div class=\"account-shell\"><div class=\"account-card\"><h1 style=\"font-size:1.25rem\">Too many requests</h1>" +
            "<div class=\"account-alert\" role=\"alert\">Too many confirmation emails asked for from your network. Wait a few minutes and try again.</div>" +
            "<div class=\"account-footer\"><a href=\"/account/login\">Back to sign-in</a></div></div></div></body></html>", ct);
    };

    public RateLimitPartition<string> GetPartition(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method)) return RateLimitPartition.GetNoLimiter("read");
        var limits = options.Value.PasswordReset;
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter(ip, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, limits.PermitLimit),
            Window = TimeSpan.FromMinutes(Math.Max(1, limits.WindowMinutes)),
            QueueLimit = 0,
        });
    }
}
