using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Portal.Tests.Support;

/// <summary>
/// A self-signed RSA certificate with its private key in a password-protected .pfx, made once per test run: what
/// <c>Portal__DataProtection__CertificatePath</c> names in production (docs/security.md makes one with openssl).
/// </summary>
public static class TestCertificate
{
    public const string Password = "key-ring-test";

    private static readonly Lazy<string> File = new(Create);

    public static string Path => File.Value;

    /// <summary>Another certificate each call, for tests that need one the portal does not hold.</summary>
    public static string CreateAnother() => Create();

    private static string Create()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=Portal key ring (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"portal-test-keyring-{Guid.NewGuid():N}.pfx");
        System.IO.File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, Password));
        return path;
    }
}
