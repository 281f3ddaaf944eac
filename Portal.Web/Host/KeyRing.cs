using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Portal.Core;
using Portal.Core.Data;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Web.Host;

/// <summary>Where the key ring lives: a directory of its own, process memory, or the database's <c>DataProtectionKeys</c> table.</summary>
public enum KeyStore { Directory, Memory, Database }

/// <summary>
/// How the Data Protection key ring is kept, decided once from configuration. The ring signs sign-in cookies and
/// antiforgery tokens and encrypts webhook secrets, so whoever reads it can sign in as anyone: it is never kept in clear
/// where the database is (a backup, a replica, a read-only SQL injection would hand it out).
/// </summary>
public sealed record KeyRingPlan(KeyStore Store, string? Directory, X509Certificate2? Certificate)
{
    /// <summary>The ring is in the database without a certificate: accepted only with <c>AllowUnprotectedKeys</c>.</summary>
    public bool Unprotected => Store == KeyStore.Database && Certificate is null;

    public static KeyRingPlan From(KeyRingOptions options, DatabaseProvider provider, string connectionString)
    {
        var certificate = LoadCertificate(options);
        if (!string.IsNullOrWhiteSpace(options.KeysDirectory))
            return new KeyRingPlan(KeyStore.Directory, Path.GetFullPath(options.KeysDirectory), certificate);
        if (provider != DatabaseProvider.Sqlite)
        {
            // Several instances share one PostgreSQL: the ring stays in the database, where they all find it, encrypted.
            if (certificate is not null || options.AllowUnprotectedKeys) return new KeyRingPlan(KeyStore.Database, null, certificate);
            throw new InvalidOperationException(
                "On PostgreSQL the Data Protection key ring (it signs sign-in cookies and encrypts webhook secrets) must be protected, " +
                "or a copy of the database is enough to sign in as any user. Set Portal__DataProtection__CertificatePath (a .pfx file) " +
                "and Portal__DataProtection__CertificatePassword, or Portal__DataProtection__CertificateThumbprint (a certificate in the " +
                "My store), to encrypt the ring in the database; or Portal__DataProtection__KeysDirectory to keep it in a directory only " +
                "this service can read (one instance, or a volume shared by all). To run with the ring in clear anyway, set " +
                "Portal__DataProtection__AllowUnprotectedKeys=true. See docs/security.md.");
        }
        var sqlite = new SqliteConnectionStringBuilder(connectionString);
        if (sqlite.Mode == SqliteOpenMode.Memory || sqlite.DataSource is "" or ":memory:")
            return new KeyRingPlan(KeyStore.Memory, null, certificate); // the database dies with the process, and so may its ring
        return new KeyRingPlan(KeyStore.Directory, DefaultDirectory(sqlite.DataSource), certificate);
    }

    /// <summary>Next to the database file, named after it as its <c>-wal</c> and <c>-shm</c> files are: <c>portal.db-keys</c>.</summary>
    public static string DefaultDirectory(string databaseFile) => Path.GetFullPath(databaseFile) + "-keys";

    private static X509Certificate2? LoadCertificate(KeyRingOptions options)
    {
        X509Certificate2? certificate = null;
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            try
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword,
                    X509KeyStorageFlags.EphemeralKeySet);
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException(
                    $"Portal__DataProtection__CertificatePath: could not read a PKCS#12 certificate from '{options.CertificatePath}' " +
                    $"(is Portal__DataProtection__CertificatePassword right?): {e.Message}", e);
            }
        }
        else if (!string.IsNullOrWhiteSpace(options.CertificateThumbprint))
        {
            var thumbprint = options.CertificateThumbprint.Replace(" ", "").Trim();
            foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                using var store = new X509Store(StoreName.My, location);
                try { store.Open(OpenFlags.ReadOnly); }
                catch (System.Security.Cryptography.CryptographicException) { continue; }
                certificate = store.Certificates.Find(X509FindType.FindByThumbprint, thumbprint, validOnly: false).FirstOrDefault();
                if (certificate is not null) break;
            }
            if (certificate is null)
                throw new InvalidOperationException(
                    $"Portal__DataProtection__CertificateThumbprint: no certificate {thumbprint} in the current user's or the machine's My store.");
        }
        if (certificate is { HasPrivateKey: false })
            throw new InvalidOperationException(
                "The Data Protection certificate has no private key: the key ring could be encrypted but never read back. Give a .pfx with its key.");
        return certificate;
    }
}

public static class KeyRingSetup
{
    /// <summary>
    /// Data Protection with the ring where <see cref="KeyRingPlan"/> says, encrypted with the certificate when one is
    /// configured. A ring left in clear in the database by earlier versions is moved (or encrypted) on first use and
    /// its keys revoked: they were readable by anyone with the database, so what they signed is no longer believed.
    /// </summary>
    public static IServiceCollection AddPortalDataProtection(this IServiceCollection services, KeyRingPlan plan)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName("Portal");
        if (plan.Certificate is { } certificate)
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        services.AddSingleton(plan);
        services.AddSingleton<PortalKeyRepository>();
        services.AddOptions<KeyManagementOptions>().Configure<PortalKeyRepository>((o, repository) => o.XmlRepository = repository);
        return services;
    }
}

/// <summary>
/// The key ring's store (<see cref="KeyRingPlan"/>), and the one-time move of a ring that earlier versions kept in clear
/// in <c>DataProtectionKeys</c>: into the directory (rows deleted), or, when the ring stays in the database, encrypted
/// in place with the certificate. Either way its keys are revoked (Data Protection then makes a new key for
/// everything it protects from now on), and they stay in the ring so what they encrypted (webhook secrets) still
/// decrypts (<see cref="Portal.Web.Features.Webhooks.DataProtectionWebhookSecrets"/>).
/// </summary>
public sealed class PortalKeyRepository : IXmlRepository
{
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = DataProtectionNamespace + "requiresEncryption";
    private static readonly XName EncryptedSecret = DataProtectionNamespace + "encryptedSecret";

    private readonly KeyRingPlan _plan;
    private readonly IDbContextFactory<PortalDbContext> _dbFactory;
    private readonly TimeProvider _clock;
    private readonly ILogger<PortalKeyRepository> _logger;
    private readonly IXmlRepository _store;
    private readonly IXmlEncryptor? _encryptor;
    private readonly Lock _lock = new();
    private bool _legacyChecked;

    public PortalKeyRepository(KeyRingPlan plan, IDbContextFactory<PortalDbContext> dbFactory, IServiceProvider services,
        TimeProvider clock, ILoggerFactory loggers)
    {
        (_plan, _dbFactory, _clock) = (plan, dbFactory, clock);
        _logger = loggers.CreateLogger<PortalKeyRepository>();
        _store = plan.Store switch
        {
            KeyStore.Directory => new KeyDirectory(plan.Directory!),
            KeyStore.Memory => new KeyMemory(),
            _ => new EntityFrameworkCoreXmlRepository<PortalDbContext>(services, loggers),
        };
        if (plan.Certificate is { } certificate) _encryptor = new CertificateXmlEncryptor(certificate, loggers);
        if (plan.Unprotected)
            _logger.LogWarning("The Data Protection key ring is kept in clear in the database (Portal:DataProtection:AllowUnprotectedKeys): " +
                "anyone who reads the database can forge sign-in cookies and decrypt webhook secrets");
    }

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        MoveLegacyRing();
        return _store.GetAllElements();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        MoveLegacyRing();
        _store.StoreElement(element, friendlyName);
    }

    /// <summary>Once per process; the database is migrated before anything asks Data Protection for a key.</summary>
    private void MoveLegacyRing()
    {
        if (_plan.Unprotected) return;
        lock (_lock)
        {
            if (_legacyChecked) return;
            using var db = _dbFactory.CreateDbContext();
            var rows = db.DataProtectionKeys.AsTracking().ToList();
            // A move cut short (the rows outlived their copies) is finished without copying a key twice.
            var stored = rows.Count == 0 || _plan.Store == KeyStore.Database
                ? []
                : _store.GetAllElements().Select(e => $"{e.Name}:{(string?)e.Attribute("id") ?? (string?)e.Element("key")?.Attribute("id")}").ToHashSet();
            var moved = 0;
            foreach (var row in rows)
            {
                if (row.Xml is not { Length: > 0 } xml) continue;
                var element = XElement.Parse(xml);
                var inClear = element.Name == "key" && element.DescendantsAndSelf().Any(e => (string?)e.Attribute(RequiresEncryption) == "true");
                if (_plan.Store == KeyStore.Database)
                {
                    // Shared by every instance: encrypted where it is. A row already encrypted is left alone.
                    if (!inClear) continue;
                    row.Xml = Encrypt(element).ToString(SaveOptions.DisableFormatting);
                }
                else
                {
                    var identity = $"{element.Name}:{(string?)element.Attribute("id") ?? (string?)element.Element("key")?.Attribute("id")}";
                    if (!stored.Contains(identity))
                        _store.StoreElement(inClear && _encryptor is not null ? Encrypt(element) : element, row.FriendlyName ?? $"legacy-{row.Id}");
                    db.DataProtectionKeys.Remove(row);
                }
                if (!inClear) continue;
                moved++;
                var keyId = (string?)element.Attribute("id");
                if (keyId is not null)
                    _store.StoreElement(Revocation(keyId), $"revocation-{keyId}");
            }
            db.SaveChanges();
            if (moved > 0)
                _logger.LogWarning("Moved {Count} Data Protection keys that were kept in clear in the database to the protected key ring ({Store}) " +
                    "and revoked them: sign-in cookies made with them are refused (users sign in again); webhook secrets encrypted with them " +
                    "still decrypt. Rotate webhook secrets if an older copy of the database may have leaked", moved, _plan.Store);
            _legacyChecked = true;
        }
    }

    private XElement Revocation(string keyId) =>
        new("revocation", new XAttribute("version", 1),
            new XElement("revocationDate", _clock.GetUtcNow()),
            new XElement("key", new XAttribute("id", keyId)),
            new XElement("reason", "Kept in clear in the database before the key ring was protected."));

    /// <summary>
    /// The key as Data Protection itself writes it under an encryptor: each element marked <c>requiresEncryption</c>
    /// (the master key) replaced by <c>&lt;encryptedSecret decryptorType=…&gt;</c> around the encryptor's output.
    /// </summary>
    private XElement Encrypt(XElement key)
    {
        var copy = new XElement(key);
        _ = new XDocument(copy);
        foreach (var secret in copy.Descendants().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList())
        {
            var encrypted = _encryptor!.Encrypt(new XElement(secret));
            secret.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }
        return copy;
    }

    /// <summary>A directory only the service user may enter (0700), one file per element (0600), written whole or not at all.</summary>
    private sealed class KeyDirectory : IXmlRepository
    {
        private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        private readonly string _path;

        public KeyDirectory(string path)
        {
            _path = path;
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
                return;
            }
            if (!Directory.Exists(path)) Directory.CreateDirectory(path, OwnerOnlyDirectory);
            // An existing directory (made by hand, restored from a backup) is narrowed to the owner too.
            if (File.GetUnixFileMode(path) != OwnerOnlyDirectory) File.SetUnixFileMode(path, OwnerOnlyDirectory);
            foreach (var file in Directory.EnumerateFiles(path, "*.xml"))
                if (File.GetUnixFileMode(file) != OwnerOnlyFile) File.SetUnixFileMode(file, OwnerOnlyFile);
        }

        public IReadOnlyCollection<XElement> GetAllElements() =>
            Directory.EnumerateFiles(_path, "*.xml").Order(StringComparer.Ordinal).Select(f => XElement.Load(f)).ToList();

        public void StoreElement(XElement element, string friendlyName)
        {
            var name = string.Concat(friendlyName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
            var target = Path.Combine(_path, name + ".xml");
            if (File.Exists(target)) target = Path.Combine(_path, $"{name}-{Guid.NewGuid():N}.xml");
            var temporary = Path.Combine(_path, $".{Guid.NewGuid():N}.tmp");
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) fileOptions.UnixCreateMode = OwnerOnlyFile;
            using (var stream = new FileStream(temporary, fileOptions)) element.Save(stream);
            File.Move(temporary, target);
        }
    }

    /// <summary>For an in-memory SQLite database: the ring lives exactly as long as the data it protects.</summary>
    private sealed class KeyMemory : IXmlRepository
    {
        private readonly List<XElement> _elements = [];

        public IReadOnlyCollection<XElement> GetAllElements()
        {
            lock (_elements) return _elements.Select(e => new XElement(e)).ToList();
        }

        public void StoreElement(XElement element, string friendlyName)
        {
            lock (_elements) _elements.Add(new XElement(element));
        }
    }
}
