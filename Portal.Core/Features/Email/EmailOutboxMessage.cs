namespace Portal.Core.Features.Email;

public enum EmailStatus
{
    Pending,
    Sent,
    Failed,
}

/// <summary>
/// A message waiting to be sent, or the record of one that was. The bodies are cleared once it is sent or given up
/// on: a reset link is a secret and has no business staying in the database.
/// </summary>
public sealed class EmailOutboxMessage
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string To { get; set; } = "";
    public string Subject { get; set; } = "";
    public string TextBody { get; set; } = "";
    public string HtmlBody { get; set; } = "";
    public EmailStatus Status { get; set; } = EmailStatus.Pending;
    public int Attempts { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public string? LastError { get; set; }
}

/// <summary>What a feature hands to <see cref="EmailOutbox"/>: the text and HTML bodies already rendered (HTML-escaped).</summary>
public sealed record EmailContent(string To, string Subject, string TextBody, string HtmlBody);
