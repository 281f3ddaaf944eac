using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Users;
using Portal.Core.Features.Webhooks;
using Portal.Tests.Support;
using Portal.Web.Features.Webhooks;

namespace Portal.Tests.Web.Data;

/// <summary>
/// The Data Protection key ring is not in the database in clear: a copy of the database forges no sign-in cookie, a
/// ring left there by earlier versions is moved and its keys revoked, and what it encrypted (webhook secrets) still
/// decrypts. On SQLite the ring is a directory of the service user's own; on PostgreSQL it is encrypted with a certificate.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class KeyRingTests
{
    private const string CookieName = "portal.auth";

    [Fact]
    public async Task Sqlite_LegacyRingInTheDatabase_IsMovedToAPrivateDirectory_OldCookiesRefused_OldSecretsKept()
    {
        await using var legacy = await LegacyPortal.CreateAsync(DatabaseProvider.Sqlite);
        using var app = new PortalApiFactory(DatabaseProvider.Sqlite, legacy.Database.ConnectionString);
        var keysDirectory = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(legacy.Database.ConnectionString).DataSource + "-keys";

        await AssertUpgradedAsync(app, legacy);

        Assert.Empty(await LegacyRowsAsync(app));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keysDirectory));
        var files = Directory.GetFiles(keysDirectory, "*.xml");
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));

        // The forgery itself works: with the ring the portal now uses (which the database does not hold), it gets in.
        var ring = files.Select(f => XElement.Load(f)).ToList();
        Assert.Equal(HttpStatusCode.OK, await OpenUsersWithForgedCookieAsync(app, ring, certificate: null));
    }

    [Fact]
    public async Task PostgreSql_LegacyRing_IsEncryptedInPlaceWithTheCertificate_OldCookiesRefused_OldSecretsKept()
    {
        await using var legacy = await LegacyPortal.CreateAsync(DatabaseProvider.PostgreSql);
        using var app = new PortalApiFactory(DatabaseProvider.PostgreSql, legacy.Database.ConnectionString);

        await AssertUpgradedAsync(app, legacy);

        // The ring stays in the shared database, every key encrypted; with the rows alone no cookie can be made.
        var rows = await LegacyRowsAsync(app);
        Assert.NotEmpty(rows);
        Assert.DoesNotContain(rows, r => HoldsSecretInClear(XElement.Parse(r)));
        Assert.Contains(rows, r => r.Contains("encryptedSecret"));
        var ring = rows.Select(XElement.Parse).ToList();
        using var other = X509CertificateLoader.LoadPkcs12FromFile(TestCertificate.CreateAnother(), TestCertificate.Password);
        Assert.NotEqual(HttpStatusCode.OK, await OpenUsersWithForgedCookieAsync(app, ring, other, expectForgeryToFail: true));
        // …while the holder of the certificate can, which shows the forgery above failed for want of the key only.
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(TestCertificate.Path, TestCertificate.Password);
        Assert.Equal(HttpStatusCode.OK, await OpenUsersWithForgedCookieAsync(app, ring, certificate));
    }

    [Fact]
    public async Task PostgreSql_WithoutAProtector_RefusesToStart_AndSaysWhatToSet()
    {
        using var app = new PortalApiFactory(DatabaseProvider.PostgreSql, "Host=localhost;Database=never_opened",
            settings: new Dictionary<string, string?> { ["Portal:DataProtection:CertificatePath"] = "" });

        var refused = Record.Exception(() => app.Services);

        Assert.NotNull(refused);
        var message = refused.ToString();
        Assert.Contains("Portal__DataProtection__CertificatePath", message);
        Assert.Contains("Portal__DataProtection__KeysDirectory", message);
        Assert.Contains("Portal__DataProtection__AllowUnprotectedKeys=true", message);
    }

    [Fact]
    public async Task PostgreSql_AllowUnprotectedKeys_StartsWithTheRingInTheDatabase()
    {
        await using var database = await TestPostgres.CreateAsync();
        using var app = new PortalApiFactory(DatabaseProvider.PostgreSql, database.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["Portal:DataProtection:CertificatePath"] = "",
            ["Portal:DataProtection:AllowUnprotectedKeys"] = "true",
        });

        Assert.Equal(HttpStatusCode.OK, (await app.AnonymousClient().GetAsync("/account/login")).StatusCode);

        Assert.Contains(await LegacyRowsAsync(app), r => HoldsSecretInClear(XElement.Parse(r)));
    }

    /// <summary>The secret still decrypts; a cookie forged from the rows the database held before the upgrade is refused.</summary>
    private static async Task AssertUpgradedAsync(PortalApiFactory app, LegacyPortal legacy)
    {
        // The page renders (the new ring makes its antiforgery token), and the old secret is revealed as it was.
        Assert.Equal(HttpStatusCode.OK, (await app.AnonymousClient().GetAsync("/account/login")).StatusCode);
        var revealed = await app.Get<WebhookService>().RevealSecretAsync(await app.RootAsync(), legacy.WebhookId);
        Assert.True(revealed.IsSuccess, revealed.Error?.Detail);
        Assert.Equal(legacy.WebhookSecret, revealed.Value.Secret);

        Assert.NotEqual(HttpStatusCode.OK, await OpenUsersWithForgedCookieAsync(app, legacy.RingRows.Select(XElement.Parse).ToList(), null));
    }

    private static bool HoldsSecretInClear(XElement element) =>
        element.Name == "key" && element.Descendants().Any(e => e.Name.LocalName == "masterKey");

    private static async Task<List<string>> LegacyRowsAsync(PortalApiFactory app)
    {
        await using var db = await app.Get<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        return await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
    }

    /// <summary>
    /// What an attacker holding <paramref name="ring"/> does: signs a cookie for the super-admin (the claims follow from
    /// the users table) and opens <c>/users</c>. 200 when the portal believes it; a redirect to sign-in when it does not.
    /// </summary>
    private static async Task<HttpStatusCode> OpenUsersWithForgedCookieAsync(PortalApiFactory app, IReadOnlyList<XElement> ring,
        X509Certificate2? certificate, bool expectForgeryToFail = false)
    {
        var directory = Directory.CreateTempSubdirectory("portal-forger-");
        try
        {
            foreach (var (element, i) in ring.Select((e, i) => (e, i))) element.Save(Path.Combine(directory.FullName, $"key-{i}.xml"));
            var provider = DataProtectionProvider.Create(directory, b =>
            {
                b.SetApplicationName("Portal").DisableAutomaticKeyGeneration();
                if (certificate is not null) b.UnprotectKeysWithAnyCertificate(certificate);
            });
            string cookie;
            try
            {
                cookie = await ForgeAsync(app, provider);
            }
            catch (Exception) when (expectForgeryToFail)
            {
                return HttpStatusCode.Unauthorized; // the ring could not even be read
            }
            var client = app.AnonymousClient();
            var request = new HttpRequestMessage(HttpMethod.Get, "/users");
            request.Headers.Add("Cookie", $"{CookieName}={cookie}");
            var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> ForgeAsync(PortalApiFactory app, IDataProtectionProvider provider)
    {
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var admin = await users.FindByEmailAsync(TestDatabase.AdminEmail);
        var principal = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<PortalUser>>().CreateAsync(admin!);
        var now = DateTimeOffset.UtcNow;
        var ticket = new AuthenticationTicket(principal,
            new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now.AddHours(1) }, IdentityConstants.ApplicationScheme);
        var protector = provider.CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware",
            IdentityConstants.ApplicationScheme, "v2");
        return new TicketDataFormat(protector).Protect(ticket);
    }

    /// <summary>
    /// A database as earlier versions left it: the key ring in clear in <c>DataProtectionKeys</c> (their exact
    /// configuration) and a webhook whose secret it encrypted. <see cref="RingRows"/> is what a copy of that database held.
    /// </summary>
    private sealed class LegacyPortal : IAsyncDisposable
    {
        public required TestDatabase Database { get; init; }
        public required Guid WebhookId { get; init; }
        public required string WebhookSecret { get; init; }
        public required IReadOnlyList<string> RingRows { get; init; }

        public static async Task<LegacyPortal> CreateAsync(DatabaseProvider provider)
        {
            var database = await TestDatabase.CreateAsync(services =>
            {
                services.AddDataProtection().SetApplicationName("Portal").PersistKeysToDbContext<PortalDbContext>();
                services.AddSingleton<IWebhookSecretProtector, DataProtectionWebhookSecrets>();
            }, provider, onFile: provider == DatabaseProvider.Sqlite);
            var created = await database.Get<WebhookService>().CreateAsync(await database.RootAsync(), new CreateWebhook
            {
                Url = "https://hooks.example.test/portal",
                EventTypes = [WebhookEventTypes.All.First().Name],
            });
            Assert.True(created.IsSuccess, created.Error?.Detail);
            await using var db = await database.OpenAsync();
            var rows = await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync();
            Assert.Contains(rows, r => HoldsSecretInClear(XElement.Parse(r)));
            return new LegacyPortal { Database = database, WebhookId = created.Value.Id, WebhookSecret = created.Value.Secret, RingRows = rows };
        }

        public ValueTask DisposeAsync() => Database.DisposeAsync();
    }
}
