using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Data;
using Portal.Core.Domain;

namespace Portal.Core.Features.Usage;

/// <summary>
/// The request detail's "why": the rule that refused a call and the numbers behind it. Limits come from what was
/// recorded with the call (<see cref="UsageEvent.LimitValue"/>, used, reset); the window's unit (per second, per minute,
/// this day, this month) and anything not recorded come from the plan as it is now, and the answer says so.
/// </summary>
internal static class RequestExplanation
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static async Task<UsageExplanation?> ExplainAsync(PortalDbContext db, UsageEvent e, UsageRequestDto dto, CancellationToken ct)
    {
        switch (e.Outcome)
        {
            case "RATE_LIMITED" or "QUOTA_EXCEEDED":
                var plan = e.PlanId is { } planId ? await db.Plans.AsNoTracking().FirstOrDefaultAsync(p => p.Id == planId, ct) : null;
                return e.Outcome == "RATE_LIMITED" ? RateLimited(e, plan) : QuotaExceeded(e, plan);
            case "REVOKED" or "EXPIRED":
                var key = e.KeyId is { } keyId
                    ? await db.ApiKeys.AsNoTracking().Where(k => k.Id == keyId).Select(k => new { k.RevokedAt, k.ExpiresAt }).FirstOrDefaultAsync(ct)
                    : null;
                return e.Outcome == "REVOKED"
                    ? new("REVOKED", key?.RevokedAt is { } revoked ? $"The key was revoked on {Time(revoked)}; a revoked key never works again." : "The key was revoked; a revoked key never works again.", false)
                    : new("EXPIRED", key?.ExpiresAt is { } expired ? $"The key expired on {Time(expired)}." : "The key had expired.", false);
            case "NOT_FOUND":
                return new("NOT_FOUND", e.KeyId is null
                    ? "No key with this value is known: unknown, mistyped, or a replaced secret past its grace period."
                    : "No such product, or a draft the key's application is not subscribed to.", false);
            case "DISABLED":
                return new("DISABLED", "The key's application, its account or its owner was suspended or inactive at the time.", false);
            case "NOT_SUBSCRIBED":
                return new("NOT_SUBSCRIBED",
                    $"{dto.ApplicationName ?? (e.ApplicationId is null ? "A personal key" : "The application")} had no APPROVED registration to {dto.ProductName ?? "the product"}.", false);
        }
        return e.Status switch
        {
            413 => new("413", "The request body was larger than the product allows; it never reached the upstream.", false),
            502 => new("502", "The product's upstream could not be reached.", false),
            504 => new("504", $"The product's upstream did not answer within its timeout{(e.UpstreamLatencyMs is null ? "" : $" ({e.UpstreamLatencyMs} ms)")}.", false),
            403 when e.Source == UsageSource.Api => new("403", "The key's scopes, or its owner's roles, do not allow this call.", false),
            _ => null,
        };
    }

    /// <summary>"RATE_LIMITED: 5 calls per minute, retry after 12 s".</summary>
    private static UsageExplanation RateLimited(UsageEvent e, Plan? plan)
    {
        var per = plan is null ? "per window" : plan.RateLimitWindow == RateLimitWindow.Minute ? "per minute" : "per second";
        if (e.LimitValue is { } limit)
        {
            var retry = e.LimitResetAt is { } reset ? $", retry after {Math.Max(1, (long)Math.Ceiling((reset - e.At).TotalSeconds))} s" : "";
            var changed = plan?.RateLimit is { } now && now != limit ? $" (the plan allows {Count(now)} {per} now)" : "";
            return new("RATE_LIMITED", $"{Count(limit)} calls {per}{retry}{changed}.", changed.Length > 0);
        }
        return plan?.RateLimit is { } planLimit
            ? new("RATE_LIMITED", $"The plan allows {Count(planLimit)} calls {per} (the plan as it is now: this call's figures were not recorded).", true)
            : new("RATE_LIMITED", "The plan's rate limit was reached (its figures were not recorded with this call).", true);
    }

    /// <summary>"QUOTA_EXCEEDED: 10,000 of 10,000 calls this month, resets 01/01/2027 00:00 UTC".</summary>
    private static UsageExplanation QuotaExceeded(UsageEvent e, Plan? plan)
    {
        var period = plan is null ? "this period" : plan.QuotaPeriod == QuotaPeriod.Day ? "today" : "this month";
        if (e.LimitValue is { } limit)
        {
            var reset = e.LimitResetAt is { } at ? $", resets {Time(at)}" : "";
            var changed = plan?.Quota is { } now && now != limit ? $" (the plan allows {Count(now)} now)" : "";
            return new("QUOTA_EXCEEDED", $"{Count(e.LimitUsed ?? limit)} of {Count(limit)} calls {period}{reset}{changed}.", changed.Length > 0);
        }
        if (plan?.Quota is not { } planQuota)
            return new("QUOTA_EXCEEDED", "The plan's quota was used up (its figures were not recorded with this call).", true);
        // The period follows from the call's time alone; only the quota's size is today's.
        var resetAt = plan.QuotaPeriod.EndOf(plan.QuotaPeriod.StartOf(e.At));
        return new("QUOTA_EXCEEDED",
            $"{Count(planQuota)} of {Count(planQuota)} calls {period}, resets {Time(resetAt)} (the plan as it is now: this call's figures were not recorded).", true);
    }

    private static string Count(long n) => n.ToString("N0", Invariant);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("dd/MM/yyyy HH:mm", Invariant) + " UTC";
}
