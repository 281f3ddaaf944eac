using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;

namespace Portal.Core.Common;

/// <summary>
/// Characters no text field of the portal takes: C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F; PostgreSQL
/// cannot even store U+0000), the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the
/// zero-width and invisible formatting characters (U+200B–U+200F, U+2060, U+FEFF), which make one name look like
/// another or reverse what a reader sees. The joiners U+200C and U+200D are taken between two characters of the
/// scripts and emoji that need them (<see cref="IsJoinerInPlace"/>). A field marked <see cref="MultiLineTextAttribute"/> also takes CR, LF and TAB.
/// <see cref="RequestValidation"/> applies this to every string of every request record, nested ones included.
/// </summary>
public static class TextRules
{
    /// <summary>The first character <paramref name="value"/> may not hold, or null.</summary>
    public static char? FirstForbidden(string? value, bool multiLine = false)
    {
        if (value is null) return null;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ZeroWidthNonJoiner or ZeroWidthJoiner ? !IsJoinerInPlace(value, i) : IsForbidden(c, multiLine)) return c;
        }
        return null;
    }

    private const char ZeroWidthNonJoiner = '\u200C';
    private const char ZeroWidthJoiner = '\u200D';

    /// <summary>
    /// ZWNJ and ZWJ change how the characters around them are drawn in Arabic and Persian, the Indic scripts and emoji
    /// sequences (می‌خواهم, क्‍ष, 👩‍💻): there they are part of the name. Between Latin, Greek or Cyrillic letters, digits
    /// or punctuation (below U+0500) they change nothing a reader sees, so there they only make two names look alike:
    /// allowed only between two characters at or above U+0500 that are not themselves refused.
    /// </summary>
    private static bool IsJoinerInPlace(string value, int i) =>
        i > 0 && i < value.Length - 1
        && value[i - 1] >= '\u0500' && value[i + 1] >= '\u0500'
        && !IsForbidden(value[i - 1]) && !IsForbidden(value[i + 1]);

    public static bool IsForbidden(char c, bool multiLine = false) => c switch
    {
        '\r' or '\n' or '\t' => !multiLine,
        < '\u0020' => true,
        >= '\u007F' and <= '\u009F' => true,
        >= '\u200B' and <= '\u200F' => true,
        >= '\u202A' and <= '\u202E' => true,
        '\u2060' => true,
        >= '\u2066' and <= '\u2069' => true,
        '\uFEFF' => true,
        _ => false,
    };

    /// <summary>Each forbidden character replaced by U+FFFD, for recording what someone typed where it cannot be refused.</summary>
    public static string Visible(string value) => string.Concat(value.Select(c => IsForbidden(c) ? '\uFFFD' : c));

    /// <summary>The field's message: which character, and why it is refused.</summary>
    public static string Message(char c) =>
        c < '\u00A0'
            ? $"Contains a control character (U+{(int)c:X4}), which is not allowed here."
            : $"Contains an invisible formatting character (U+{(int)c:X4}) that can disguise text, which is not allowed here.";

    /// <summary>
    /// Every string property of <paramref name="request"/> and of the request objects inside it, by field name as the
    /// API reports errors (<c>name</c>, <c>plans[0].name</c>, <c>eventTypes</c>).
    /// </summary>
    /// <returns>The first field refused, for a summary that names it (a search box has no field to show a message under).</returns>
    public static string? Check(object request, IDictionary<string, List<string>> errors)
    {
        var found = new Dictionary<string, List<string>>();
        Check(request, "", found, depth: 0);
        foreach (var (field, messages) in found)
        {
            if (!errors.TryGetValue(field, out var existing)) errors[field] = existing = [];
            existing.InsertRange(0, messages);
        }
        return found.Keys.FirstOrDefault();
    }

    private static void Check(object value, string prefix, IDictionary<string, List<string>> errors, int depth)
    {
        if (depth > 8) return;
        foreach (var property in PropertiesOf(value.GetType()))
        {
            var field = prefix + JsonNamingPolicy.CamelCase.ConvertName(property.Info.Name);
            var content = property.Info.GetValue(value);
            switch (content)
            {
                case null:
                    continue;
                case string text:
                    Report(field, FirstForbidden(text, property.MultiLine), errors);
                    break;
                case IEnumerable<string> texts:
                    Report(field, texts.Select(t => FirstForbidden(t, property.MultiLine)).FirstOrDefault(c => c is not null), errors);
                    break;
                case IEnumerable items when IsRequestType(property.ElementType):
                    var i = 0;
                    foreach (var item in items)
                    {
                        if (item is not null) Check(item, $"{field}[{i}].", errors, depth + 1);
                        i++;
                    }
                    break;
                default:
                    if (IsRequestType(content.GetType())) Check(content, field + ".", errors, depth + 1);
                    break;
            }
        }
    }

    private static void Report(string field, char? forbidden, IDictionary<string, List<string>> errors)
    {
        if (forbidden is not { } c) return;
        errors[field] = [Message(c)];
    }

    /// <summary>The portal's own records and classes; framework types (strings aside) hold nothing a user typed.</summary>
    private static bool IsRequestType(Type? type) =>
        type is { IsClass: true } && type != typeof(string) && type.Assembly == typeof(TextRules).Assembly;

    private sealed record TextProperty(PropertyInfo Info, bool MultiLine, Type? ElementType);

    private static readonly ConcurrentDictionary<Type, TextProperty[]> Properties = new();

    private static TextProperty[] PropertiesOf(Type type) => Properties.GetOrAdd(type, static t => t
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<AnyTextAttribute>() is null)
        .Where(p => p.PropertyType == typeof(string) || typeof(IEnumerable).IsAssignableFrom(p.PropertyType) || IsRequestType(p.PropertyType))
        .Select(p => new TextProperty(p, p.GetCustomAttribute<MultiLineTextAttribute>() is not null, ElementOf(p.PropertyType)))
        .ToArray());

    private static Type? ElementOf(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            ?.GetGenericArguments()[0];
}

/// <summary>A field that may span lines (a description): CR, LF and TAB are allowed in it; other controls are not.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MultiLineTextAttribute : Attribute;

/// <summary>
/// A field <see cref="TextRules"/> leaves alone: a password, which is never shown or stored as text, may hold any
/// character its owner can type.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class AnyTextAttribute : Attribute;
