using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Portal.Core.Common;

/// <summary>
/// Checks a request record's DataAnnotations. The API and the forms check them too; the service checks
/// again because it is the one place nobody can skip.
/// </summary>
public static class RequestValidation
{
    public static ValidationError? Validate(object request)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(request, new ValidationContext(request), results, validateAllProperties: true))
            return null;
        var errors = results
            .SelectMany(r => (r.MemberNames.Any() ? r.MemberNames : [""]).Select(m => (Member: m, r.ErrorMessage)))
            .GroupBy(x => JsonNamingPolicy.CamelCase.ConvertName(x.Member))
            .ToDictionary(g => g.Key, g => g.Select(x => x.ErrorMessage ?? "Invalid value.").ToArray());
        return new ValidationError(errors);
    }
}
