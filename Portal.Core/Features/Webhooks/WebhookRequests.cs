using System.ComponentModel.DataAnnotations;
using Portal.Core.Common;

namespace Portal.Core.Features.Webhooks;

public sealed record CreateWebhook
{
    [Required(ErrorMessage = "The URL is required."), StringLength(WebhookRules.MaxUrlLength), WebhookUrl]
    public string Url { get; set; } = "";

    [StringLength(WebhookRules.MaxDescriptionLength, ErrorMessage = "The description is at most 500 characters.")]
    [MultiLineText]
    public string? Description { get; set; }

    [Required(ErrorMessage = "Choose at least one event type."), WebhookEventTypeList]
    public List<string> EventTypes { get; set; } = [];

    public bool Enabled { get; set; } = true;
}

/// <summary>PATCH: only the fields sent change; <see cref="EventTypes"/>, when sent, is the whole new list.</summary>
public sealed record UpdateWebhook
{
    [StringLength(WebhookRules.MaxUrlLength), WebhookUrl]
    public string? Url { get; init; }

    [StringLength(WebhookRules.MaxDescriptionLength, ErrorMessage = "The description is at most 500 characters.")]
    [MultiLineText]
    public string? Description { get; init; }

    [WebhookEventTypeList]
    public List<string>? EventTypes { get; init; }

    public bool? Enabled { get; init; }
}

public sealed record WebhookLastDelivery(WebhookDeliveryStatus Status, DateTimeOffset At, int? StatusCode, string EventType);

/// <summary>An endpoint as pages and the API show it: never the secret, only its masked form.</summary>
public record WebhookEndpointDto(
    Guid Id,
    string Url,
    string? Description,
    IReadOnlyList<string> EventTypes,
    bool Enabled,
    string MaskedSecret,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    WebhookLastDelivery? LastDelivery);

/// <summary>The answer to create: the endpoint and, this one time, its signing <see cref="Secret"/>.</summary>
public sealed record WebhookCreated : WebhookEndpointDto
{
    public WebhookCreated(WebhookEndpointDto endpoint, string secret) : base(endpoint) => Secret = secret;

    public string Secret { get; }

    // Keeps the secret out of any log line that formats this record.
    public override string ToString() => $"WebhookCreated {{ Id = {Id}, Secret = {MaskedSecret} }}";
}

/// <summary>The answer to rotate and reveal: the endpoint's signing secret.</summary>
public sealed record WebhookSecret(Guid Id, string Secret, string MaskedSecret)
{
    public override string ToString() => $"WebhookSecret {{ Id = {Id}, Secret = {MaskedSecret} }}";
}

public sealed record WebhookAttemptDto(DateTimeOffset At, int? StatusCode, int DurationMs, string? Error, string? ResponseSnippet);

public sealed record WebhookDeliveryDto(
    Guid Id,
    Guid EndpointId,
    Guid EventId,
    string EventType,
    WebhookDeliveryStatus Status,
    int Attempts,
    int? LastStatusCode,
    string? LastError,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt,
    string Payload,
    IReadOnlyList<WebhookAttemptDto> AttemptLog);

public sealed record WebhookDeliveryQuery : PageQuery
{
    public WebhookDeliveryStatus? Status { get; init; }
}

public sealed record WebhookEndpointDisabled()
    : ConflictError("This endpoint is disabled: enable it to send events to it.");

public sealed record WebhookSecretUnreadable()
    : ConflictError("The secret can no longer be decrypted; rotate it.");
