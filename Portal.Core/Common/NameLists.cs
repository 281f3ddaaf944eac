namespace Portal.Core.Common;

/// <summary>
/// Lists of names from a fixed catalogue (roles, scopes, event types). A form only offers the catalogue, but a JSON
/// body may hold anything, <c>[null]</c> and <c>[""]</c> included: every entry is checked, none is skipped for being null.
/// </summary>
public static class NameLists
{
    /// <summary>
    /// A message naming the first entry of <paramref name="names"/> that is not in <paramref name="known"/> (a null
    /// entry included), such as "Unknown role 'owner'. Roles are super-admin, admin, read-only, developer."; null when
    /// every entry is known.
    /// </summary>
    public static string? FirstUnknown(IEnumerable<string?> names, IReadOnlyList<string> known, string noun, string plural)
    {
        foreach (var name in names)
            if (name is null || !known.Contains(name, StringComparer.Ordinal))
                return $"Unknown {noun} {Quote(name)}. {plural} are {string.Join(", ", known)}.";
        return null;
    }

    /// <summary>How a refused entry is named in a message: quoted, or <c>null</c> for a null one.</summary>
    public static string Quote(string? name) => name is null ? "null" : $"'{name}'";
}
