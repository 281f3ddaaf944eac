using Microsoft.AspNetCore.Components.Forms;
using Portal.Core.Common;

namespace Portal.Web.Components;

/// <summary>
/// Puts a service's <see cref="ValidationError"/> on the form fields it names, next to the
/// DataAnnotations messages, so a password-policy failure shows under Password like any other
/// field error. A field's server message goes away as soon as the user edits that field.
/// </summary>
public sealed class ServerErrors
{
    private readonly EditContext _context;
    private readonly ValidationMessageStore _store;

    public ServerErrors(EditContext context)
    {
        _context = context;
        _store = new ValidationMessageStore(context);
        context.OnFieldChanged += (_, e) =>
        {
            _store.Clear(e.FieldIdentifier);
            _context.NotifyValidationStateChanged();
        };
        // A new submit starts from a clean slate; DataAnnotations re-validates its own messages.
        context.OnValidationRequested += (_, _) => _store.Clear();
    }

    /// <summary>Shows each message on the field named by its camelCase key; returns messages for fields the form lacks.</summary>
    public IReadOnlyList<string> Show(ValidationError error, params string[] formFields)
    {
        var unplaced = new List<string>();
        foreach (var (key, messages) in error.Errors)
        {
            var property = formFields.FirstOrDefault(f => string.Equals(f, key, StringComparison.OrdinalIgnoreCase));
            if (property is null) unplaced.AddRange(messages);
            else _store.Add(new FieldIdentifier(_context.Model, property), messages);
        }
        _context.NotifyValidationStateChanged();
        return unplaced;
    }

    public void Show(string field, string message) => Show(_context.Model, field, message);

    /// <summary>On a field of an object inside the form's model, such as one plan of a product.</summary>
    public void Show(object model, string field, string message)
    {
        _store.Add(new FieldIdentifier(model, field), message);
        _context.NotifyValidationStateChanged();
    }
}
