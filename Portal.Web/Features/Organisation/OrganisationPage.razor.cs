using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Organisation;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Organisation;

public sealed partial class OrganisationPage
{
    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    private bool _canWrite;
    private OrganisationDto? _profile;
    private string? _loadError;
    private UpdateOrganisation? _form;
    private EditContext? _editContext;
    private ValidationMessageStore? _serverErrors;
    private bool _saving;
    // An unreachable logo falls back to the initial instead of a broken-image icon.
    private bool _logoFailed;

    protected override async Task OnInitializedAsync()
    {
        _canWrite = Actor.Can(Permission.OrganisationWrite);
        var result = await Organisation.GetAsync(Actor);
        if (result.IsSuccess) _profile = result.Value;
        else _loadError = result.Error!.Detail;
    }

    private void StartEdit()
    {
        if (_profile is null) return;
        _form = new UpdateOrganisation
        {
            Name = _profile.Name,
            ContactEmail = _profile.ContactEmail,
            Website = _profile.Website,
            LogoUrl = _profile.LogoUrl,
        };
        _editContext = new EditContext(_form);
        _serverErrors = new ValidationMessageStore(_editContext);
        // A server message belongs to the value that caused it; editing the field retires it.
        _editContext.OnFieldChanged += (_, e) => _serverErrors.Clear(e.FieldIdentifier);
    }

    private void CancelEdit()
    {
        _form = null;
        _editContext = null;
        _serverErrors = null;
    }

    private async Task SaveAsync()
    {
        if (_saving || _form is null || _editContext is null || _serverErrors is null) return;
        _saving = true;
        try
        {
            _serverErrors.Clear();
            var result = await Organisation.UpdateAsync(Actor, _form);
            if (result.IsSuccess)
            {
                _profile = result.Value;
                _logoFailed = false;
                CancelEdit();
                Snackbar.Add("Organisation saved", Severity.Success);
                return;
            }
            if (result.Error is ValidationError invalid)
            {
                foreach (var (field, messages) in invalid.Errors)
                    _serverErrors.Add(new FieldIdentifier(_form, ToPropertyName(field)), messages);
                _editContext.NotifyValidationStateChanged();
            }
            else
            {
                Snackbar.Add(result.Error!.Detail, Severity.Error);
            }
        }
        finally
        {
            _saving = false;
        }
    }

    // The service reports fields in camelCase, as the API does; the form's fields are the C# property names.
    private static string ToPropertyName(string field) =>
        field.Length == 0 ? field : char.ToUpperInvariant(field[0]) + field[1..];

    // The service only stores http(s) addresses; checking again keeps a bad row from reaching an href or src.
    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static string Initial(string name) => string.IsNullOrWhiteSpace(name) ? "?" : name.Trim()[..1].ToUpperInvariant();
}
