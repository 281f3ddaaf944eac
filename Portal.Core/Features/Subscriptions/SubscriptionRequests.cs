using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Subscriptions;

/// <summary>
/// One registration. <see cref="ApplicationId"/> is null once the application was removed; its name and account stay.
/// </summary>
public sealed record SubscriptionDto(
    Guid Id,
    SubscriptionStatus Status,
    Guid? ApplicationId,
    string ApplicationName,
    Guid AccountId,
    string AccountName,
    Guid ProductId,
    string ProductName,
    string ProductSlug,
    string? ProductDescription,
    Guid PlanId,
    string PlanName,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DecidedAt,
    DateTimeOffset? EndedAt);

public sealed record SubscriptionQuery : PageQuery
{
    public SubscriptionStatus? Status { get; init; }
    public Guid? ApplicationId { get; init; }
    public Guid? ProductId { get; init; }
    public Guid? AccountId { get; init; }

    /// <summary>Only the caller's own accounts' registrations, even for an admin who may see all (a product page's "yours").</summary>
    public bool Mine { get; init; }
}

/// <summary>API body and dialog model for subscribing an application to a product on a plan.</summary>
public sealed class CreateSubscription
{
    [Required(ErrorMessage = "Choose an application.")]
    public Guid? ApplicationId { get; set; }

    [Required(ErrorMessage = "Choose a product.")]
    public Guid? ProductId { get; set; }

    [Required(ErrorMessage = "Choose a plan.")]
    public Guid? PlanId { get; set; }
}

/// <summary>Body of approve and reject; the reason of a rejection is shown to the developer.</summary>
public sealed class DecideSubscription
{
    [StringLength(1000, ErrorMessage = "Reason is at most 1000 characters.")]
    [MultiLineText]
    public string? Reason { get; set; }
}
