using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Portal.Core.Features.Users;

/// <summary>Identity's password options, checked without a UserManager so a service can use them per operation.</summary>
public sealed class PasswordPolicy(IOptions<IdentityOptions> identityOptions)
{
    public string[] Check(string? password)
    {
        var rules = identityOptions.Value.Password;
        password ??= "";
        var problems = new List<string>();
        if (password.Length < rules.RequiredLength)
            problems.Add($"Passwords must be at least {rules.RequiredLength} characters.");
        if (rules.RequireDigit && !password.Any(char.IsAsciiDigit))
            problems.Add("Passwords must have at least one digit ('0'-'9').");
        if (rules.RequireLowercase && !password.Any(char.IsAsciiLetterLower))
            problems.Add("Passwords must have at least one lowercase letter ('a'-'z').");
        if (rules.RequireUppercase && !password.Any(char.IsAsciiLetterUpper))
            problems.Add("Passwords must have at least one uppercase letter ('A'-'Z').");
        if (rules.RequireNonAlphanumeric && password.All(char.IsLetterOrDigit))
            problems.Add("Passwords must have at least one non-alphanumeric character.");
        if (password.Distinct().Count() < rules.RequiredUniqueChars)
            problems.Add($"Passwords must use at least {rules.RequiredUniqueChars} different characters.");
        return [.. problems];
    }
}
