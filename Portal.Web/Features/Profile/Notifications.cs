using Portal.Core.Features.Notifications;

namespace Portal.Web.Features.Profile;

public static class NotificationSetup
{
    /// <summary>The key expiry sweep, in the background of every instance (each notice goes out once whichever runs it).</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddHostedService<KeyExpiryNoticeService>();
        services.AddHostedService<SpendingAlertService>();
        return services;
    }
}

/// <summary>The spending threshold sweep, in the background of every instance (each alert goes out once whichever runs it).</summary>
public sealed class SpendingAlertService(Portal.Core.Features.Quotas.QuotaAlerts alerts) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => alerts.RunAsync(stoppingToken);
}

public sealed class KeyExpiryNoticeService(KeyExpiryNotices notices) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => notices.RunAsync(stoppingToken);
}
