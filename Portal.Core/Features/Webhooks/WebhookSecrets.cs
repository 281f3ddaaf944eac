using System.Security.Cryptography;
using System.Text;

namespace Portal.Core.Features.Webhooks;

/// <summary>
/// Encrypts signing secrets at rest. Defined here, implemented by the web host (ASP.NET Core Data Protection, its key
/// ring kept in the database), so Core stays free of the host.
/// </summary>
public interface IWebhookSecretProtector
{
    string Protect(string secret);

    string Unprotect(string protectedSecret);
}

/// <summary>Secrets and signatures per the Standard Webhooks convention (<c>whsec_</c> secrets, <c>v1,</c> HMAC-SHA256 signatures).</summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    public const int SecretBytes = 32;

    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Last4(string secret) => secret[^4..];

    /// <summary>What a page shows instead of the secret.</summary>
    public static string Mask(string last4) => $"{SecretPrefix}••••••••{last4}";

    /// <summary><c>v1,</c> + base64 HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>, keyed with the secret's base64-decoded bytes.</summary>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }
}
