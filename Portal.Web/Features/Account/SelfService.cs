using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Features.Email;
using Portal.Core.Features.Profile;
using Portal.Core.Features.Users;

namespace Portal.Web.Features.Account;

/// <summary>Profile, email, forgot password and email confirmation: the background senders, the reset link's lifetime, (the forms' rate limits: AccountRateLimits).</summary>
public static class SelfService
{
    public static IServiceCollection AddSelfService(this IServiceCollection services)
    {
        services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = PasswordResetService.LinkLifetime);
        services.AddSingleton<ISignInClient, HttpSignInClient>();
        services.AddHostedService<EmailDispatcherService>();
        services.AddHostedService<PasswordResetQueueService>();
        services.AddHostedService<ConfirmationResendQueueService>();
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

public sealed class ConfirmationResendQueueService(EmailConfirmationService confirmations) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => confirmations.RunAsync(stoppingToken);
}

/// <summary>The browser behind the sign-in being recorded (a static page's request).</summary>
public sealed class HttpSignInClient(IHttpContextAccessor http) : ISignInClient
{
    public string? UserAgent => http.HttpContext?.Request.Headers.UserAgent.ToString();
}
