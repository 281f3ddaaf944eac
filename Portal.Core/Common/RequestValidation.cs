using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Portal.Core.Common;

/// <summary>
/// Checks a request record's DataAnnotations and, on every string in it, the <see cref="TextRules"/> (no control or
/// invisible formatting characters). The API and the forms check them too; the service checks again because it is the
/// one place nobody can skip.
/// </summary>
public static class RequestValidation
{
    public static ValidationError? Validate(object request)
    {
        var results = new List<ValidationResult>();
        var errors = new Dictionary<string, List<string>>();
        if (!Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true))
            foreach (var (member, message) in results.SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (m, r.ErrorMessage))))
            {
                var field = JsonNamingPolicy.CamelCase.ConvertName(member);
                if (!errors.TryGetValue(field, out var messages)) errors[field] = messages = [];
                messages.Add(message ?? "Invalid value.");
            }
        var refusedText = TextRules.Check(request, errors);
        if (errors.Count == 0) return null;
        var byField = errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
        return refusedText is null
            ? new ValidationError(byField)
            : new ValidationError(byField, $"One or more fields are invalid. {refusedText}: {byField[refusedText][0]}");
    }
}
