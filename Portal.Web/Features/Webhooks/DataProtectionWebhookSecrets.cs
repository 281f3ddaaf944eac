using Microsoft.AspNetCore.DataProtection;
using Portal.Core.Features.Webhooks;

namespace Portal.Web.Features.Webhooks;

/// <summary>Webhook signing secrets encrypted with ASP.NET Core Data Protection (key ring in the database, see <see cref="WebhookHosting"/>).</summary>
public sealed class DataProtectionWebhookSecrets(IDataProtectionProvider provider) : IWebhookSecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Portal.Webhooks.SigningSecret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}

public static class WebhookHosting
{
    /// <summary>
    /// The key ring lives in the portal's database (table <c>DataProtectionKeys</c>): secrets encrypted today can be
    /// decrypted after a restart, on another machine restoring the backup, and by every instance sharing the database.
    /// </summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Portal").PersistKeysToDbContext<Portal.Core.Data.PortalDbContext>();
        services.AddSingleton<IWebhookSecretProtector, DataProtectionWebhookSecrets>();
        services.AddHostedService<WebhookDispatcherService>();
        return services;
    }
}

/// <summary>Runs the webhook dispatcher for the life of the host.</summary>
public sealed class WebhookDispatcherService(WebhookDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
