using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Web.Features.Audit;
using Portal.Web.Features.Usage;
using Portal.Web.Features.Users;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Exports;

/// <summary>
/// The pages' Export buttons. <c>/api/v1</c> takes API keys only, so the pages link here instead: the same handlers as
/// the API lists (the same filters, permissions and rows), authenticated by the sign-in cookie and always answering CSV.
/// They are GETs that change nothing, so a cross-site link gains an attacker nothing (SameSite=Lax lets the cookie go
/// along with a top-level navigation only, and the answer is a download the attacker's page cannot read).
/// </summary>
public static class ExportEndpoints
{
    public const string RequestLog = "/exports/request-log";
    public const string AuditLog = "/exports/audit-log";
    public const string Users = "/exports/users";
    public const string BillingStatements = "/exports/billing-statements";

    public static void MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        // Followed from a page, signed out they go to sign-in; the lists' typed results would otherwise mark them as API
        // endpoints, which the cookie scheme answers with 401.
        var exports = app.MapGroup("/exports").ExcludeFromDescription().WithMetadata(new CsvOnly()).AllowCookieRedirect();
        exports.MapGet("/request-log", UsageEndpoints.Requests).RequirePermission(Permission.UsageRead);
        exports.MapGet("/audit-log", AuditEndpoints.List).RequirePermission(Permission.AuditRead);
        exports.MapGet("/users", UserEndpoints.List).RequirePermission(Permission.UsersRead);
        exports.MapGet("/billing-statements", Billing.BillingEndpoints.List).RequirePermission(Permission.UsageRead);
    }

    /// <summary>Marks the page-side endpoints, whose answer is CSV whatever the request asks.</summary>
    public sealed class CsvOnly;

    /// <summary>An API list asked for CSV (<c>?format=csv</c> or <c>Accept: text/csv</c>), or a page's export link.</summary>
    public static bool WantsCsv(HttpContext http, string? format) =>
        http.GetEndpoint()?.Metadata.GetMetadata<CsvOnly>() is not null || Csv.IsWanted(http.Request, format);

    /// <summary>The link a page's Export button follows: the page's filters as the list's query values.</summary>
    public static string Link(string path, IEnumerable<KeyValuePair<string, string?>> query) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(path, query.Where(q => !string.IsNullOrEmpty(q.Value)));

    /// <summary>A time as a query value (UTC, ISO 8601), or none.</summary>
    public static string? Time(DateTimeOffset? at) => at is { } t ? Csv.Time(t) : null;

    public static Csv.CsvFile<UsageRequestDto> RequestLogFile(IAsyncEnumerable<UsageRequestDto> rows, DateTimeOffset now) =>
        Csv.File(rows, RequestLogColumns, Csv.FileName("request-log", now));

    public static Csv.CsvFile<AuditEntryDto> AuditLogFile(IAsyncEnumerable<AuditEntryDto> rows, DateTimeOffset now) =>
        Csv.File(rows, AuditLogColumns, Csv.FileName("audit-log", now));

    public static Csv.CsvFile<UserDto> UsersFile(IAsyncEnumerable<UserDto> rows, DateTimeOffset now) =>
        Csv.File(rows, UserColumns, Csv.FileName("users", now));

    public static readonly IReadOnlyList<CsvColumn<UsageRequestDto>> RequestLogColumns =
    [
        new("id", r => Csv.Number(r.Id)),
        new("at", r => Csv.Time(r.At)),
        new("source", r => r.Source.ToString().ToLowerInvariant()),
        new("method", r => r.Method),
        new("route", r => r.Route),
        new("path", r => r.Path),
        new("status", r => Csv.Number(r.Status)),
        new("outcome", r => r.Outcome),
        new("latencyMs", r => Csv.Number(r.LatencyMs)),
        new("upstreamLatencyMs", r => Csv.Number(r.UpstreamLatencyMs)),
        new("requestBytes", r => Csv.Number(r.RequestBytes)),
        new("responseBytes", r => Csv.Number(r.ResponseBytes)),
        new("keyId", r => r.KeyId?.ToString()),
        new("keyName", r => r.KeyName),
        new("applicationId", r => r.ApplicationId?.ToString()),
        new("applicationName", r => r.ApplicationName),
        new("accountId", r => r.AccountId?.ToString()),
        new("productId", r => r.ProductId?.ToString()),
        new("productName", r => r.ProductName),
    ];

    public static readonly IReadOnlyList<CsvColumn<AuditEntryDto>> AuditLogColumns =
    [
        new("id", e => e.Id.ToString()),
        new("at", e => Csv.Time(e.At)),
        new("actorId", e => e.ActorId?.ToString()),
        new("actor", e => e.Actor),
        new("action", e => e.Action),
        new("targetType", e => e.TargetType),
        new("targetId", e => e.TargetId),
        new("target", e => e.Target),
        new("details", e => e.Details),
        new("ipAddress", e => e.IpAddress),
    ];

    public static readonly IReadOnlyList<CsvColumn<UserDto>> UserColumns =
    [
        new("id", u => u.Id.ToString()),
        new("email", u => u.Email),
        new("displayName", u => u.DisplayName),
        new("roles", u => string.Join(' ', u.Roles)),
        new("status", u => u.Status.ToString()),
        new("lockedOut", u => u.LockedOut ? "true" : "false"),
        new("createdAt", u => Csv.Time(u.CreatedAt)),
        new("lastLoginAt", u => Csv.Time(u.LastLoginAt)),
    ];
}
