using System.Globalization;

namespace Portal.Web.Infrastructure;

/// <summary>One limit as the IETF ratelimit-headers draft names it: <paramref name="Quota"/> calls per <paramref name="WindowSeconds"/>, what remains and when it resets.</summary>
public readonly record struct RateLimitItem(string Name, long Quota, long WindowSeconds, long Remaining, long ResetSeconds);

/// <summary>
/// <c>RateLimit-Policy</c> and <c>RateLimit</c> (IETF httpapi ratelimit-headers draft), written in one place for the
/// gateway's plan limits and the API's own: one item per limit, <c>"name";q=…;w=…</c> and <c>"name";r=…;t=…</c>.
/// </summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, RateLimitItem first, RateLimitItem? second = null)
    {
        var policy = Policy(first);
        var state = State(first);
        if (second is { } other)
        {
            policy += ", " + Policy(other);
            state += ", " + State(other);
        }
        response.Headers["RateLimit-Policy"] = policy;
        response.Headers["RateLimit"] = state;
    }

    private static string Policy(RateLimitItem item) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{item.Name}\";q={item.Quota};w={item.WindowSeconds}");

    private static string State(RateLimitItem item) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{item.Name}\";r={item.Remaining};t={item.ResetSeconds}");
}
