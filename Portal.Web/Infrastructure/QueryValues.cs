using System.Globalization;
using Portal.Core.Common;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Reads a page's address values (<c>/usage/requests?keyId=…&amp;from=…</c>) itself, so a malformed one becomes a message
/// naming the field instead of failing the page as a typed <c>[SupplyParameterFromQuery]</c> would. (API endpoints bind
/// typed values; their malformed ones are answered by <see cref="BadRequestProblems"/>.)
/// </summary>
public sealed class QueryValues
{
    private readonly Dictionary<string, string[]> _errors = [];

    /// <summary>Null when every value read so far was well formed.</summary>
    public ValidationError? Error => _errors.Count == 0 ? null : new ValidationError(_errors);

    /// <summary>An ISO 8601 time; one without an offset is taken as UTC.</summary>
    public DateTimeOffset? Time(string field, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            return at;
        _errors[field] = [$"'{text}' is not an ISO 8601 time, such as 2026-01-31T09:00:00Z."];
        return null;
    }

    public Guid? Id(string field, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (Guid.TryParse(text, out var id)) return id;
        _errors[field] = [$"'{text}' is not an id (a GUID)."];
        return null;
    }

    public int Number(string field, string? text, int fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        _errors[field] = [$"'{text}' is not a whole number."];
        return fallback;
    }
}
