using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Billing;
using Portal.Core.Features.Products;
using Portal.Web.Components;

namespace Portal.Web.Features.Products;

/// <summary>
/// Creates a product or edits one, its plans included. The form binds to <see cref="CreateProduct"/> in both cases;
/// an edit sends every field as an <see cref="UpdateProduct"/> (plans as the whole new list).
/// </summary>
public sealed partial class ProductEditorDialog
{
    private readonly CreateProduct _form = new();
    private EditContext _context = default!;
    private ServerErrors _serverErrors = default!;
    private bool _saving;
    private double? _bodyLimitMiB;
    private string? _credentialHeader;
    private string? _credentialValue;
    private bool _replaceCredential;
    private bool _clearCredential;
    private string? _error;
    private string? _plansError;
    private bool _submitted;
    private bool _scrollToError;

    [Inject] private ProductService Products { get; set; } = default!;
    [Inject] private PlanWhatIfService WhatIf { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;

    [CascadingParameter]
    private IMudDialogInstance Dialog { get; set; } = default!;

    [Parameter, EditorRequired]
    public Actor Actor { get; set; } = default!;

    /// <summary>Null: a new product.</summary>
    [Parameter]
    public ProductDto? Product { get; set; }

    /// <summary>Opens the editor; the saved product, or null when cancelled.</summary>
    public static async Task<ProductDto?> ShowAsync(IDialogService dialogs, Actor actor, ProductDto? product)
    {
        var dialog = await dialogs.ShowAsync<ProductEditorDialog>(product is null ? "New product" : $"Edit {product.Name}",
            new DialogParameters<ProductEditorDialog> { { d => d.Actor, actor }, { d => d.Product, product } },
            new DialogOptions { MaxWidth = MaxWidth.Medium, FullWidth = true, BackdropClick = false, CloseButton = true });
        var result = await dialog.Result;
        return result is { Canceled: false, Data: ProductDto saved } ? saved : null;
    }

    private string SlugHint =>
        Product is not null ? $"The product's address: /products/{(string.IsNullOrWhiteSpace(_form.Slug) ? Product.Slug : _form.Slug)}"
        : string.IsNullOrWhiteSpace(_form.Slug) && ProductService.SlugFrom(_form.Name ?? "") is { Length: > 0 } derived ? $"Leave empty to use \"{derived}\""
        : "Lowercase letters, digits and hyphens; derived from the name when empty";

    private static string PricePlaceholder(PlanType type) => type switch
    {
        PlanType.Free => "Free",
        PlanType.Subscription => "Billed yearly on request",
        PlanType.Metered => "Invoiced monthly",
        _ => "Volume discounts on request",
    };

    private static string CurrencyOf(PlanRequest plan) => string.IsNullOrWhiteSpace(plan.Currency) ? Currencies.Default : plan.Currency;

    private static string TierModeHint(TierMode? mode) => mode == TierMode.Volume
        ? "Every call at the rate of the band the month's total lands in"
        : "Each band's calls at that band's rate";

    /// <summary>A paid plan loaded without its numbers (made before prices were numbers), and still without any.</summary>
    private static bool Unpriced(PlanRequest plan) =>
        plan.Currency is null && plan.FlatFee is null && plan.UnitPrice is null && plan.MonthlyMinimum is null && plan.PriceUnit is null
        && plan.TierMode is null && plan.Tiers.All(t => t.UnitPrice is null && t.FlatFee is null);

    protected override void OnInitialized()
    {
        if (Product is { } p)
        {
            _form.Name = p.Name;
            _form.Slug = p.Slug;
            _form.Title = p.Title;
            _form.Description = p.Description;
            _form.UpstreamUrl = p.UpstreamUrl;
            _form.UpstreamTimeoutSeconds = p.UpstreamTimeoutSeconds;
            _bodyLimitMiB = Math.Round(p.MaxRequestBodyBytes / (1024.0 * 1024), 3);
            _form.Published = p.Published;
            _form.RequiresApproval = p.RequiresApproval;
            _form.Plans = [.. p.Plans.Select(plan => new PlanRequest
            {
                Id = plan.Id,
                Name = plan.Name,
                Type = plan.Type,
                RateLimit = plan.RateLimit,
                RateLimitWindow = plan.RateLimitWindow,
                Quota = plan.Quota,
                QuotaPeriod = plan.QuotaPeriod,
                PriceText = plan.PriceText,
                // A paid plan without numbers stays in the unpriced shape until a price is entered (the service then keeps it as it is).
                Currency = plan.Priced || plan.Type == PlanType.Free ? plan.Currency : null,
                FlatFee = plan.FlatFee,
                UnitPrice = plan.UnitPrice,
                PriceUnit = plan.Priced ? plan.PriceUnit : null,
                MonthlyMinimum = plan.MonthlyMinimum,
                TierMode = plan.Priced ? plan.TierMode : null,
                Tiers = [.. plan.Tiers.Select(t => new PlanTierRequest { UpTo = t.UpTo, UnitPrice = t.UnitPrice, FlatFee = t.FlatFee, Note = t.Note })],
            })];
        }
        else
        {
            _form.Plans.Add(new PlanRequest { Name = "Free", Type = PlanType.Free, Currency = Currencies.Default });
        }
        _context = new EditContext(_form);
        _serverErrors = new ServerErrors(_context);
        // The summary by the buttons follows the field messages: it goes once the last one is fixed.
        _context.OnValidationStateChanged += (_, _) => StateHasChanged();
    }

    /// <summary>
    /// After a failed save, what stopped it, shown beside the buttons: the product-wide error, or the first field
    /// message and how many more there are (the fields themselves may be scrolled out of view above).
    /// </summary>
    private string? ActionsError
    {
        get
        {
            if (!_submitted) return null;
            if (_error is not null) return _error;
            var messages = _context.GetValidationMessages().Concat(_plansError is null ? [] : [_plansError]).Distinct().ToList();
            return messages.Count switch
            {
                0 => null,
                1 => $"Not saved: {messages[0]}",
                _ => $"Not saved: {messages[0]} (and {messages.Count - 1} more)",
            };
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!_scrollToError) return;
        _scrollToError = false;
        await JS.InvokeVoidAsync("portal.scrollToFirstError", ".product-editor-dialog");
    }

    /// <summary>Marks the save as failed: the summary shows by the buttons and the first error scrolls into view.</summary>
    private void Failed()
    {
        _scrollToError = true;
        StateHasChanged();
    }

    private void AddPlan() => _form.Plans.Add(new PlanRequest { Type = PlanType.Subscription, Currency = Currencies.Default, PriceUnit = 1 });

    private void RemovePlan(PlanRequest plan) => _form.Plans.Remove(plan);

    private static void AddTier(PlanRequest plan) => plan.Tiers.Add(new PlanTierRequest());

    private static void RemoveTier(PlanRequest plan, PlanTierRequest tier) => plan.Tiers.Remove(tier);

    private async Task SaveAsync()
    {
        if (_saving) return;
        _submitted = true;
        _error = null;
        _plansError = null;
        Normalize();
        // DataAnnotationsValidator checks the product's own fields; the plans and tiers are checked here, at their fields.
        var valid = _context.Validate();
        valid &= ValidatePlans();
        if (!valid)
        {
            Failed();
            return;
        }
        _saving = true;
        try
        {
            var result = Product is null
                ? await Products.CreateAsync(Actor, _form)
                : await Products.UpdateAsync(Actor, Product.Id, ToUpdate());
            switch (result.Error)
            {
                case null:
                    Snackbar.Add(Product is null ? $"Product {result.Value.Name} created" : $"Product {result.Value.Name} saved", Severity.Success);
                    Dialog.Close(DialogResult.Ok(result.Value));
                    break;
                case ValidationError invalid:
                    ShowServerErrors(invalid);
                    Failed();
                    break;
                case DuplicateProductSlug taken:
                    _serverErrors.Show(nameof(CreateProduct.Slug), taken.Detail);
                    Failed();
                    break;
                case var other:
                    // A removed plan still in use: a rule of the whole product, not one field.
                    _error = other.Detail;
                    Failed();
                    break;
            }
        }
        finally
        {
            _saving = false;
        }
    }

    /// <summary>Empty text means "none"; tiers belong to tiered plans only.</summary>
    private void Normalize()
    {
        _form.Slug = NullIfBlank(_form.Slug);
        _form.Title = NullIfBlank(_form.Title);
        _form.Description = NullIfBlank(_form.Description);
        _form.UpstreamUrl = NullIfBlank(_form.UpstreamUrl);
        _form.MaxRequestBodyBytes = _bodyLimitMiB is { } mib ? (long)Math.Round(mib * 1024 * 1024) : null;
        // A header and a value set or replace the credential; the value is never read back into the form.
        _form.UpstreamCredential = NullIfBlank(_credentialValue) is { } value
            ? new UpstreamCredentialRequest { Header = NullIfBlank(_credentialHeader) ?? "Authorization", Value = value }
            : null;
        _form.ClearUpstreamCredential = _clearCredential ? true : null;
        foreach (var plan in _form.Plans) NormalizePlan(plan);
    }

    private static void NormalizePlan(PlanRequest plan)
    {
        plan.PriceText = NullIfBlank(plan.PriceText);
        if (plan.Type != PlanType.Tiered) plan.Tiers.Clear();
        foreach (var tier in plan.Tiers) tier.Note = NullIfBlank(tier.Note);
        // Fields of another type stay in the form while it is open but are not sent (they are hidden).
        if (plan.Type != PlanType.Subscription) plan.FlatFee = null;
        if (plan.Type != PlanType.Metered) plan.UnitPrice = plan.MonthlyMinimum = null;
        // A price entered on an unpriced plan prices it in the currency shown.
        if (!Unpriced(plan)) plan.Currency ??= Currencies.Default;
    }

    private readonly Dictionary<PlanRequest, PlanWhatIfState> _whatIf = [];

    private PlanWhatIfState WhatIfOf(PlanRequest plan) => _whatIf.TryGetValue(plan, out var state) ? state : _whatIf[plan] = new PlanWhatIfState();

    /// <summary>Last month under the plan as it stands in the form; nothing is saved. Its field errors show at the plan's fields.</summary>
    private async Task PreviewAsync(PlanRequest plan)
    {
        if (Product is null || plan.Id is not { } planId) return;
        var state = WhatIfOf(plan);
        if (state.Loading) return;
        NormalizePlan(plan);
        state.Loading = true;
        state.Error = null;
        StateHasChanged();
        try
        {
            var result = await WhatIf.PreviewAsync(Actor, Product.Id, planId, plan);
            state.Result = result.IsSuccess ? result.Value : null;
            if (result.Error is ValidationError invalid)
            {
                var at = $"plans[{_form.Plans.IndexOf(plan)}].";
                ShowServerErrors(new ValidationError(invalid.Errors.ToDictionary(e => at + e.Key, e => e.Value)));
                state.Error = "Fix the plan's fields to preview it.";
            }
            else if (result.Error is { } other) state.Error = other.Detail;
        }
        finally
        {
            state.Loading = false;
        }
    }

    private bool ValidatePlans()
    {
        var valid = true;
        foreach (var plan in _form.Plans)
        {
            valid &= ValidateObject(plan);
            foreach (var tier in plan.Tiers) valid &= ValidateObject(tier);
        }
        var duplicate = _form.Plans.GroupBy(p => p.Name.Trim(), StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Key.Length > 0 && g.Count() > 1);
        if (duplicate is not null)
        {
            foreach (var plan in duplicate.Skip(1)) _serverErrors.Show(plan, nameof(PlanRequest.Name), $"Another plan is already named \"{duplicate.Key}\".");
            valid = false;
        }
        return valid;
    }

    private bool ValidateObject(object model)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(model, new ValidationContext(model), results, validateAllProperties: true)) return true;
        foreach (var r in results)
            foreach (var member in r.MemberNames)
                _serverErrors.Show(model, member, r.ErrorMessage ?? "Invalid value.");
        return false;
    }

    private UpdateProduct ToUpdate() => new()
    {
        Name = _form.Name,
        // Null leaves the slug as it is: clearing the field does not clear the product's address.
        Slug = _form.Slug,
        Title = _form.Title ?? "",
        Description = _form.Description ?? "",
        UpstreamUrl = _form.UpstreamUrl ?? "",
        Published = _form.Published,
        RequiresApproval = _form.RequiresApproval,
        UpstreamTimeoutSeconds = _form.UpstreamTimeoutSeconds,
        MaxRequestBodyBytes = _form.MaxRequestBodyBytes,
        UpstreamCredential = _form.UpstreamCredential,
        ClearUpstreamCredential = _form.ClearUpstreamCredential,
        Plans = _form.Plans,
    };

    /// <summary>Puts the service's messages at their fields: <c>name</c>, <c>plans[1].rateLimit</c>, <c>plans[0].tiers[2].price</c>.</summary>
    private void ShowServerErrors(ValidationError invalid)
    {
        var unplaced = new List<string>();
        foreach (var (key, messages) in invalid.Errors)
        {
            var (model, field) = Locate(key);
            if (model is null && string.Equals(key, "plans", StringComparison.OrdinalIgnoreCase)) _plansError = string.Join(" ", messages);
            else if (model is null || field is null) unplaced.AddRange(messages);
            else foreach (var message in messages) _serverErrors.Show(model, field, message);
        }
        if (unplaced.Count > 0) _error = string.Join(" ", unplaced);
    }

    private (object? Model, string? Field) Locate(string key)
    {
        var path = PathPart().Matches(key).Select(m => m.Value).ToList();
        if (path.Count == 0) return (null, null);
        if (path.Count == 1)
            return TextFields.FirstOrDefault(f => string.Equals(f, path[0], StringComparison.OrdinalIgnoreCase)) is { } field ? (_form, field) : (null, null);
        if (!string.Equals(path[0], nameof(CreateProduct.Plans), StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(path[1], out var p) || p < 0 || p >= _form.Plans.Count) return (null, null);
        var plan = _form.Plans[p];
        // "plans[0].tiers" (the band list as a whole) shows above the tier rows.
        if (path.Count == 3)
            return PlanFields.FirstOrDefault(f => string.Equals(f, path[2], StringComparison.OrdinalIgnoreCase)) is { } planField ? (plan, planField) : (null, null);
        if (path.Count == 5 && string.Equals(path[2], nameof(PlanRequest.Tiers), StringComparison.OrdinalIgnoreCase)
            && int.TryParse(path[3], out var t) && t >= 0 && t < plan.Tiers.Count)
            return PropertyName(typeof(PlanTierRequest), path[4]) is { } tierField ? (plan.Tiers[t], tierField) : (null, null);
        return (null, null);
    }

    /// <summary>The product's fields that show their own messages; others ("published") go to the alert.</summary>
    private static readonly string[] TextFields =
    [
        nameof(CreateProduct.Name), nameof(CreateProduct.Slug), nameof(CreateProduct.Title),
        nameof(CreateProduct.Description), nameof(CreateProduct.UpstreamUrl), nameof(CreateProduct.UpstreamTimeoutSeconds),
    ];

    private static readonly string[] PlanFields =
    [
        nameof(PlanRequest.Name), nameof(PlanRequest.Type), nameof(PlanRequest.RateLimit),
        nameof(PlanRequest.Quota), nameof(PlanRequest.PriceText), nameof(PlanRequest.Tiers),
        nameof(PlanRequest.Currency), nameof(PlanRequest.FlatFee), nameof(PlanRequest.UnitPrice),
        nameof(PlanRequest.PriceUnit), nameof(PlanRequest.MonthlyMinimum), nameof(PlanRequest.TierMode),
    ];

    private IEnumerable<string> TierListErrors(PlanRequest plan) =>
        _context.GetValidationMessages(new FieldIdentifier(plan, nameof(PlanRequest.Tiers)));

    private static string? PropertyName(Type type, string camel) =>
        type.GetProperty(camel, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)?.Name;

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex(@"[A-Za-z_][A-Za-z0-9_]*|\d+")]
    private static partial Regex PathPart();
}
