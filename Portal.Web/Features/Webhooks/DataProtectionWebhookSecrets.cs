using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Portal.Core.Features.Webhooks;

namespace Portal.Web.Features.Webhooks;

/// <summary>
/// Webhook signing secrets encrypted with ASP.NET Core Data Protection (the key ring: <see cref="Portal.Web.Host.KeyRingSetup"/>).
/// A secret encrypted under a revoked key still decrypts: keys that earlier versions kept in clear in the database are
/// revoked so that cookies signed with them are refused, but the secrets they encrypted are the ones receivers hold.
/// Anything else the portal stores encrypted should decrypt the same way (<see cref="UnprotectStored"/>).
/// </summary>
public sealed class DataProtectionWebhookSecrets(IDataProtectionProvider provider) : IWebhookSecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Portal.Webhooks.SigningSecret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => UnprotectStored(_protector, protectedSecret);

    /// <summary>
    /// <see cref="DataProtectionCommonExtensions.Unprotect(IDataProtector, string)"/>, but a revoked key is accepted: a
    /// stored secret encrypted before a revocation is no less the secret in use.
    /// </summary>
    public static string UnprotectStored(IDataProtector protector, string protectedText)
    {
        if (protector is not IPersistedDataProtector persisted) return protector.Unprotect(protectedText);
        try
        {
            var plain = persisted.DangerousUnprotect(WebEncoders.Base64UrlDecode(protectedText), ignoreRevocationErrors: true, out _, out _);
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(plain);
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            // As the framework's string overload reports text that is not its own.
            throw new System.Security.Cryptography.CryptographicException("The protected text could not be read.", e);
        }
    }
}

public static class WebhookHosting
{
    /// <summary>Secrets are encrypted with the portal's Data Protection key ring (<see cref="Portal.Web.Host.KeyRingSetup"/>).</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
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
