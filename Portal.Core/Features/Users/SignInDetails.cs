namespace Portal.Core.Features.Users;

/// <summary>
/// The user agent a sign-in's audit entry keeps in its details (<c>browser: …</c>), cut to a sane length: written
/// where the sign-in is recorded, read back for the profile's recent sign-ins.
/// </summary>
public static class SignInDetails
{
    public const string Prefix = "browser: ";
    public const int MaxUserAgent = 300;

    public static string? For(string? userAgent) =>
        string.IsNullOrWhiteSpace(userAgent) ? null : Prefix + (userAgent.Length <= MaxUserAgent ? userAgent : userAgent[..MaxUserAgent]);

    public static string? Browser(string? details) =>
        details is not null && details.StartsWith(Prefix, StringComparison.Ordinal) ? details[Prefix.Length..] : null;
}
