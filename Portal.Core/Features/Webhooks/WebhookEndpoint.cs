namespace Portal.Core.Features.Webhooks;

/// <summary>A subscriber URL that receives the events it subscribed to, signed with its own secret.</summary>
public sealed class WebhookEndpoint
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string Url { get; set; } = "";
    public string? Description { get; set; }

    /// <summary>Subscribed event types, space-separated (a short list; only read whole).</summary>
    public string EventTypes { get; set; } = "";

    /// <summary>The signing secret, encrypted by <see cref="IWebhookSecretProtector"/>: the server must sign with it, so a hash would not do.</summary>
    public string ProtectedSecret { get; set; } = "";

    /// <summary>The secret's last four characters, to tell secrets apart without revealing them.</summary>
    public string SecretLast4 { get; set; } = "";

    public bool Enabled { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public IReadOnlyList<string> EventTypeList => EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public bool Receives(string eventType) => EventTypeList.Contains(eventType, StringComparer.Ordinal);
}

public enum WebhookDeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>One event for one endpoint: sent until a 2xx answer or the retry schedule runs out.</summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid EndpointId { get; set; }

    /// <summary>The event's id: the <c>webhook-id</c> header, the same on every attempt and for every endpoint.</summary>
    public Guid EventId { get; set; }

    public string EventType { get; set; } = "";

    /// <summary>The exact body sent: <c>{id, type, timestamp, data}</c>.</summary>
    public string Payload { get; set; } = "";

    public WebhookDeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public List<WebhookAttempt> AttemptLog { get; set; } = [];
}

public sealed class WebhookAttempt
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DeliveryId { get; set; }
    public DateTimeOffset At { get; set; }
    public int? StatusCode { get; set; }
    public int DurationMs { get; set; }
    public string? Error { get; set; }

    /// <summary>The start of the receiver's answer, for diagnosis.</summary>
    public string? ResponseSnippet { get; set; }
}

/// <summary>
/// An event waiting to be fanned out: written in the same SaveChanges as the change it reports (by
/// <see cref="WebhookOutbox"/>), turned into deliveries and removed by <see cref="WebhookDispatcher"/>.
/// </summary>
public sealed class WebhookOutboxEvent
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string Type { get; set; } = "";
    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>The event's <c>data</c> object as JSON.</summary>
    public string Data { get; set; } = "{}";
}
