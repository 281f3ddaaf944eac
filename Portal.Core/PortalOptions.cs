namespace Portal.Core;

/// <summary>Settings under <c>Portal:</c> (environment: <c>Portal__Section__Key</c>).</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    public DatabaseOptions Database { get; set; } = new();
    public BootstrapOptions Bootstrap { get; set; } = new();
    public ApiKeyOptions ApiKeys { get; set; } = new();
    public UsageOptions Usage { get; set; } = new();
    public ApplicationOptions Applications { get; set; } = new();
    public SignUpOptions SignUp { get; set; } = new();
    public VerificationOptions Verification { get; set; } = new();
    public WebhookOptions Webhooks { get; set; } = new();
    public RedisOptions Redis { get; set; } = new();
    public KeyRingOptions DataProtection { get; set; } = new();
    public ForwardedHeadersSettings ForwardedHeaders { get; set; } = new();
    public ApiOptions Api { get; set; } = new();
    public GatewayOptions Gateway { get; set; } = new();
    public Features.Email.EmailOptions Email { get; set; } = new();
    public PasswordResetOptions PasswordReset { get; set; } = new();
    public SignInOptions SignIn { get; set; } = new();
    public Features.Notifications.NotificationOptions Notifications { get; set; } = new();
    public SecurityOptions Security { get; set; } = new();
}

public sealed class SecurityOptions
{
    /// <summary>
    /// Super-admins and admins without two-factor sign-in are sent to set it up before any other page opens
    /// (<c>Portal:Security:RequireTwoFactorForAdmins</c>). Pages only: API keys are not affected.
    /// </summary>
    public bool RequireTwoFactorForAdmins { get; set; }
}

/// <summary>
/// Where the Data Protection key ring (it signs sign-in cookies and encrypts webhook secrets) is kept and how it is
/// protected (<c>Portal:DataProtection:…</c>; docs/security.md). Whoever reads the ring can forge any user's cookie.
/// </summary>
public sealed class KeyRingOptions
{
    /// <summary>
    /// A directory for the ring, readable by the service user only (0700, files 0600). Default on SQLite: next to the
    /// database file (<c>portal.db</c> → <c>portal.db-keys</c>); on PostgreSQL the ring stays in the database unless this is set.
    /// </summary>
    public string? KeysDirectory { get; set; }

    /// <summary>A PKCS#12 (.pfx) file whose certificate encrypts the ring's keys (<c>ProtectKeysWithCertificate</c>).</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Instead of a file: the thumbprint of a certificate with its private key in the user's or the machine's My store.</summary>
    public string? CertificateThumbprint { get; set; }

    /// <summary>
    /// PostgreSQL without a certificate or keys directory: keep the ring in clear in the database anyway. Off by
    /// default; then such a start is refused, because a copy of the database would be enough to sign in as anyone.
    /// </summary>
    public bool AllowUnprotectedKeys { get; set; }
}

/// <summary>
/// The proxies whose <c>X-Forwarded-For</c> / <c>X-Forwarded-Proto</c> are believed (<c>Portal:ForwardedHeaders:…</c>).
/// Comma-separated; empty: forwarded headers are ignored and the connection's own address and scheme count.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    /// <summary>Addresses such as <c>10.0.0.5, ::1</c>.</summary>
    public string? KnownProxies { get; set; }

    /// <summary>Networks in CIDR notation such as <c>10.0.0.0/8, fd00::/8</c>.</summary>
    public string? KnownNetworks { get; set; }
}

public sealed class ApiOptions
{
    /// <summary>
    /// <c>/openapi/v1.json</c> without signing in (<c>Portal:Api:PublicOpenApi</c>). When false it needs a signed-in
    /// admin (or read-only) or an API key with the <c>read</c> scope.
    /// </summary>
    public bool PublicOpenApi { get; set; } = true;

    /// <summary>Calls per key on <c>/api/v1</c> (<c>Portal:Api:RateLimit</c>).</summary>
    public ApiRateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>
/// A token bucket per API key (per client address for calls without one): <see cref="PermitsPerSecond"/> sustained,
/// up to <see cref="Burst"/> at once. Key verification has no such limit (the plans it enforces are its limits).
/// </summary>
public sealed class ApiRateLimitOptions
{
    /// <summary>Off: no limit on <c>/api/v1</c> at all (<c>Portal:Api:RateLimit:Enabled</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Calls per second one key keeps up (<c>Portal:Api:RateLimit:PermitsPerSecond</c>).</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Calls one key may make at once after a quiet moment (<c>Portal:Api:RateLimit:Burst</c>).</summary>
    public int Burst { get; set; } = 200;

    /// <summary>Calls per second for a key whose owner is an admin or super-admin (<c>Portal:Api:RateLimit:AdminPermitsPerSecond</c>); burst twice that.</summary>
    public int AdminPermitsPerSecond { get; set; } = 500;

    /// <summary>
    /// Usage summary and request-log calls one key may have running at once (<c>Portal:Api:RateLimit:ExpensiveConcurrency</c>);
    /// a few more wait their turn, beyond that 429.
    /// </summary>
    public int ExpensiveConcurrency { get; set; } = 2;
}

/// <summary>Sign-in attempts (<c>Portal:SignIn</c>).</summary>
public sealed class SignInOptions
{
    /// <summary>Sign-in form posts one client address may make per window (<c>Portal:SignIn:PermitLimit</c>); more get a 429 page.</summary>
    public int PermitLimit { get; set; } = 30;

    /// <summary>The window of <see cref="PermitLimit"/> in minutes (<c>Portal:SignIn:WindowMinutes</c>).</summary>
    public int WindowMinutes { get; set; } = 5;

    /// <summary>
    /// Failed sign-ins of one account from one client address before that address is locked out of that account
    /// (<c>Portal:SignIn:MaxFailedAttempts</c>); the account stays open from every other address.
    /// </summary>
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>How long such a lock lasts, and the window its failures are counted in (<c>Portal:SignIn:LockoutMinutes</c>).</summary>
    public int LockoutMinutes { get; set; } = 15;
}

public sealed class PasswordResetOptions
{
    /// <summary>Forgot-password posts one client address may make per window (<c>Portal:PasswordReset:PermitLimit</c>).</summary>
    public int PermitLimit { get; set; } = 10;

    /// <summary>Reset emails one address may be sent per window (<c>Portal:PasswordReset:PerEmailLimit</c>); more are silently not sent.</summary>
    public int PerEmailLimit { get; set; } = 3;

    /// <summary>The window of both limits, in minutes (<c>Portal:PasswordReset:WindowMinutes</c>).</summary>
    public int WindowMinutes { get; set; } = 15;
}

public sealed class RedisOptions
{
    /// <summary>
    /// A StackExchange.Redis configuration string (<c>host:6379,password=…</c>). Set it when several instances run:
    /// rate limits and quotas are then counted in Redis and cache changes announced through it (docs/scale-out.md).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Calls an instance may take from Redis at once for a busy subscription far from its limits
    /// (<c>Portal:Redis:LeaseSize</c>, default 32; 1 decides every call in Redis). Near a limit calls are always decided
    /// one by one, so limits stay exact; see docs/scale-out.md.
    /// </summary>
    public int LeaseSize { get; set; } = 32;
}

public sealed class GatewayOptions
{
    /// <summary>The gateway serves its products' traffic (<c>Portal:Gateway:Enabled</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where the gateway answers: <c>{PathPrefix}/{product-slug}/…</c> (<c>Portal:Gateway:PathPrefix</c>).</summary>
    public string PathPrefix { get; set; } = "/gateway";

    /// <summary>
    /// Optional dedicated listener(s), <c>;</c>-separated (<c>Portal:Gateway:Urls</c>, e.g. <c>http://0.0.0.0:8081</c>): the
    /// gateway answers there too, and nothing else is served there, so the data plane can be exposed without the portal.
    /// </summary>
    public string? Urls { get; set; }

    /// <summary>
    /// Upstreams at link-local, cloud-metadata, multicast or unspecified addresses (<c>Portal:Gateway:AllowLinkLocalUpstreams</c>).
    /// Off by default; loopback and private networks are always allowed.
    /// </summary>
    public bool AllowLinkLocalUpstreams { get; set; }

    /// <summary>
    /// Benchmarks only (<c>Portal:Gateway:BareRouteUpstream</c>): <c>{PathPrefix}-bare/{**path}</c> forwards to this URL
    /// through the same forwarder with no key, plan or usage, the baseline the gateway's cost is measured against.
    /// </summary>
    public string? BareRouteUpstream { get; set; }
}

public sealed class WebhookOptions
{
    /// <summary>
    /// Send to loopback, private and link-local addresses too (<c>Portal:Webhooks:AllowPrivateTargets</c>). Off by
    /// default, so an admin cannot point a webhook at the portal's own network; tests and local receivers turn it on.
    /// </summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>How often the dispatcher looks for due retries when nothing wakes it (<c>Portal:Webhooks:PollSeconds</c>).</summary>
    public int PollSeconds { get; set; } = 5;

    /// <summary>
    /// Finished (Succeeded or Failed) deliveries created longer ago than this are deleted with their attempts
    /// (<c>Portal:Webhooks:RetentionDays</c>); pending ones are kept whatever their age.
    /// </summary>
    public int RetentionDays { get; set; } = 30;
}

public sealed class VerificationOptions
{
    /// <summary>
    /// <c>POST /api/v1/keys/verify</c> without a key of the caller's own (<c>Portal:Verification:AllowAnonymous</c>).
    /// Off by default: the caller (a gateway) needs a key with the <c>read</c> scope.
    /// </summary>
    public bool AllowAnonymous { get; set; }
}

public sealed class ApplicationOptions
{
    /// <summary>Applications one account may hold (<c>Portal:Applications:MaxPerAccount</c>).</summary>
    public int MaxPerAccount { get; set; } = 10;

    /// <summary>Active (not revoked, not expired) keys one application may hold (<c>Portal:Applications:MaxActiveKeys</c>).</summary>
    public int MaxActiveKeys { get; set; } = 5;
}

public sealed class SignUpOptions
{
    /// <summary>Self-service developer sign-up (<c>Portal:SignUp:Enabled</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Sign-up form posts one client address may make per window (<c>Portal:SignUp:PermitLimit</c>).</summary>
    public int PermitLimit { get; set; } = 30;

    /// <summary>The rate-limit window in minutes (<c>Portal:SignUp:WindowMinutes</c>).</summary>
    public int WindowMinutes { get; set; } = 10;

    /// <summary>
    /// A self-service sign-up stays unconfirmed until the link emailed to it is followed
    /// (<c>Portal:SignUp:RequireConfirmedEmail</c>): until then sign-in says why and its keys do not work.
    /// </summary>
    public bool RequireConfirmedEmail { get; set; }

    /// <summary>Confirmation emails one address may be sent per hour, the sign-up's own included (<c>Portal:SignUp:ConfirmationsPerHour</c>).</summary>
    public int ConfirmationsPerHour { get; set; } = 3;

    /// <summary>Sign-up posts for one email per window, from any address (<c>Portal:SignUp:PerEmailLimit</c>); more get the form's error.</summary>
    public int PerEmailLimit { get; set; } = 5;
}

public sealed class DatabaseOptions
{
    /// <summary><c>Sqlite</c> (default) or <c>PostgreSQL</c> (also <c>Postgres</c>, <c>Npgsql</c>); see <see cref="Data.DatabaseProviders.Parse"/>.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Defaults to a <c>portal.db</c> file in the web project's content root.</summary>
    public string? ConnectionString { get; set; }
}

public sealed class BootstrapOptions
{
    public string? AdminEmail { get; set; }
    public string? AdminPassword { get; set; }
}

public sealed class ApiKeyOptions
{
    /// <summary>Prefix of newly issued keys (lowercase letters or digits, then '_'), so scanners can spot leaked keys.</summary>
    public string Prefix { get; set; } = "ptl_";
}

public sealed class UsageOptions
{
    /// <summary>Raw usage events older than this are deleted; hourly rollups are kept.</summary>
    public int RetentionDays { get; set; } = 30;
}
