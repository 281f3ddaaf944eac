namespace Portal.Web.Components;

public static class TextFormat
{
    /// <summary>At most <paramref name="max"/> characters, ending in "…" when cut; the full text goes in a tooltip.</summary>
    public static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)].TrimEnd() + "…";
}
