using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;

namespace Portal.Core.Features.Accounts;

public sealed record AccountDto(Guid Id, string Name, AccountKind Kind, DateTimeOffset CreatedAt, int MemberCount, int ApplicationCount,
    AccountStatus Status = AccountStatus.Active);

public sealed record AccountMemberDto(Guid UserId, string Email, string DisplayName);

/// <summary>One account as its detail page shows it (the application header's account link leads there).</summary>
public sealed record AccountDetailDto(Guid Id, string Name, AccountKind Kind, DateTimeOffset CreatedAt, IReadOnlyList<AccountMemberDto> Members, int ApplicationCount,
    AccountStatus Status = AccountStatus.Active);

public sealed record AccountQuery : PageQuery
{
    public AccountKind? Kind { get; init; }
}

/// <summary>Form and API body for a new account. Mutable so a form can bind to it.</summary>
public sealed class CreateAccount
{
    [Required(ErrorMessage = "Name is required.")]
    [StringLength(200, ErrorMessage = "Name is at most 200 characters.")]
    public string Name { get; set; } = "";

    /// <summary>Default <see cref="AccountKind.Team"/>: a person's account is made when the person is.</summary>
    public AccountKind Kind { get; set; } = AccountKind.Team;

    /// <summary>Developers who become members at once.</summary>
    public List<Guid> MemberIds { get; set; } = [];
}

/// <summary>
/// <c>GET · PUT /api/v1/accounts/{id}/billing-settings</c>: the spending threshold (a notice, not a limit) above which a
/// metered or tiered subscription's cost this month raises <c>billing.threshold_reached</c>; in each subscription's plan
/// currency; null: none.
/// </summary>
public sealed record AccountBillingSettingsDto(Guid AccountId, decimal? SpendingThreshold);

/// <summary>Body of <c>PUT /api/v1/accounts/{id}/billing-settings</c>: the whole settings; a null threshold turns the notice off.</summary>
public sealed class UpdateAccountBillingSettings
{
    [Range(typeof(decimal), "0.01", "1000000000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true,
        ErrorMessage = "The spending threshold is an amount between 0.01 and 1,000,000,000,000.")]
    public decimal? SpendingThreshold { get; set; }
}

/// <summary>API body of <c>PATCH /api/v1/accounts/{id}</c>: a null field is left as it is.</summary>
public sealed class UpdateAccount
{
    /// <summary>Suspended: the account's application keys are refused (REST API 401, verification DISABLED) until it is active again.</summary>
    public AccountStatus? Status { get; set; }
}
