using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Portal.Core;
using Portal.Core.Common;
using Portal.Web.Authentication;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Calls per API key on <c>/api/v1</c> (<c>Portal:Api:RateLimit</c>): a token bucket per key, refilled with
/// <c>PermitsPerSecond</c> every second and holding up to <c>Burst</c>; keys of admins and super-admins get
/// <c>AdminPermitsPerSecond</c> (burst twice that). A call without a recognised key is counted per client address
/// (anonymous endpoints; a refused key is answered 401 before this runs). Over the limit: 429 problem details with
/// <c>Retry-After</c>, <c>RateLimit-Policy</c> and <c>RateLimit</c>.
/// </summary>
/// <remarks>
/// ASP.NET Core's global limiter, after authorization (so the key is known): per call one partition lookup by a
/// 17-byte struct (no string, no boxing, no service resolved) and the bucket's own lock; the buckets are refilled by
/// the partitioned limiter's one timer, not a timer each. Key verification is exempt (<c>DisableRateLimiting</c>): a
/// gateway's one key asks for all its consumers, and the plans verification enforces are its limits; unknown keys
/// there cost no database read (the negative cache) and no row each (aggregated refusals). The usage summary and
/// request log, each up to half a second of database work, also take a slot of <c>ExpensiveConcurrency</c> per key
/// (<see cref="Expensive"/>), so one key's searches queue behind each other instead of filling the database.
/// </remarks>
public static class ApiRateLimits
{
    /// <summary>The endpoint policy of the expensive reads: a few at a time per key.</summary>
    public const string Expensive = "api-expensive";

    /// <summary>Calls that may wait for an expensive slot, per key, beyond those running.</summary>
    private const int ExpensiveQueue = 4;

    public static IServiceCollection AddApiRateLimits(this IServiceCollection services, ApiRateLimitOptions settings)
    {
        var limits = new KeyLimits(settings);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            if (settings.Enabled) o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Caller>(limits.Partition);
            o.OnRejected = (context, _) => limits.RejectedAsync(context);
            o.AddPolicy(Expensive, new ExpensivePolicy(settings));
        });
        return services;
    }

    private enum CallerKind : byte
    {
        Unlimited,
        Key,
        AdminKey,
        Address,
    }

    /// <summary>Who is counted: a key by its id, or a client address as 16 bytes.</summary>
    private readonly record struct Caller(Guid Id, CallerKind Kind);

    /// <summary>The caller of an authenticated call: its key, and whether its owner is an admin.</summary>
    private static Caller CallerOf(HttpContext http)
    {
        if (http.User.Identity is ApiKeyClaimsIdentity { Key: var key })
            return new Caller(key.KeyId, IsAdmin(key.Roles) ? CallerKind.AdminKey : CallerKind.Key);
        if (http.User.Identity is { IsAuthenticated: true } identity
            && Guid.TryParse(http.User.FindFirstValue(PortalClaims.KeyId), out var keyId))
            return new Caller(keyId, http.User.IsInRole(Roles.Admin) || http.User.IsInRole(Roles.SuperAdmin) ? CallerKind.AdminKey : CallerKind.Key);
        return new Caller(AddressId(http.Connection.RemoteIpAddress), CallerKind.Address);
    }

    private static bool IsAdmin(IReadOnlyList<string> roles)
    {
        for (var i = 0; i < roles.Count; i++)
            if (roles[i] is Roles.Admin or Roles.SuperAdmin) return true;
        return false;
    }

    private static Guid AddressId(IPAddress? address)
    {
        if (address is null) return Guid.Empty;
        if (address.AddressFamily == AddressFamily.InterNetwork) address = address.MapToIPv6();
        Span<byte> bytes = stackalloc byte[16];
        return address.TryWriteBytes(bytes, out _) ? new Guid(bytes) : Guid.Empty;
    }

    private sealed class KeyLimits
    {
        private readonly ApiRateLimitOptions _settings;
        private readonly Func<Caller, RateLimiter> _keyBucket, _adminBucket;

        public KeyLimits(ApiRateLimitOptions settings)
        {
            _settings = settings;
            var perSecond = Math.Max(1, settings.PermitsPerSecond);
            var adminPerSecond = Math.Max(perSecond, settings.AdminPermitsPerSecond);
            var burst = Math.Max(perSecond, settings.Burst);
            _keyBucket = _ => Bucket(perSecond, burst);
            _adminBucket = _ => Bucket(adminPerSecond, Math.Max(burst, adminPerSecond * 2));
        }

        public int PerSecond(CallerKind kind) =>
            kind == CallerKind.AdminKey ? Math.Max(Math.Max(1, _settings.PermitsPerSecond), _settings.AdminPermitsPerSecond) : Math.Max(1, _settings.PermitsPerSecond);

        private static TokenBucketRateLimiter Bucket(int perSecond, int burst) => new(new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            // The partitioned limiter refills every bucket from its one timer.
            AutoReplenishment = false,
            QueueLimit = 0,
        });

        public RateLimitPartition<Caller> Partition(HttpContext http)
        {
            if (!http.Request.Path.StartsWithSegments("/api")) return RateLimitPartition.GetNoLimiter(default(Caller));
            var caller = CallerOf(http);
            return new RateLimitPartition<Caller>(caller, caller.Kind == CallerKind.AdminKey ? _adminBucket : _keyBucket);
        }

        public ValueTask RejectedAsync(OnRejectedContext context)
        {
            var http = context.HttpContext;
            var perSecond = PerSecond(CallerOf(http).Kind);
            return WriteProblemAsync(http, context.Lease, "api", perSecond, 1,
                $"This key made more than {perSecond} calls per second (after a burst). Slow down and retry after the time in Retry-After.");
        }
    }

    /// <summary>The usage summary and request log: <c>ExpensiveConcurrency</c> running per key, a few waiting, 429 beyond.</summary>
    private sealed class ExpensivePolicy(ApiRateLimitOptions settings) : IRateLimiterPolicy<Caller>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => (context, _) =>
            WriteProblemAsync(context.HttpContext, context.Lease, "expensive", Math.Max(1, settings.ExpensiveConcurrency), 1,
                "This key already has as many usage searches running and waiting as it may. Wait for them to finish, then retry.");

        public RateLimitPartition<Caller> GetPartition(HttpContext http)
        {
            if (!settings.Enabled) return RateLimitPartition.GetNoLimiter(default(Caller));
            return RateLimitPartition.GetConcurrencyLimiter(CallerOf(http), _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = Math.Max(1, settings.ExpensiveConcurrency),
                QueueLimit = ExpensiveQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }
    }

    private static async ValueTask WriteProblemAsync(HttpContext http, RateLimitLease lease, string name, long quota, long window, string detail)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)) : 1;
        var response = http.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        RateLimitHeaders.Write(response, new RateLimitItem(name, quota, window, 0, retryAfter));
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = detail },
        });
    }
}
