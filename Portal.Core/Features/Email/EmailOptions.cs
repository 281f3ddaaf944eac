namespace Portal.Core.Features.Email;

/// <summary>Settings under <c>Portal:Email</c>: an SMTP server when <see cref="SmtpOptions.Host"/> is set, otherwise a pickup folder.</summary>
public sealed class EmailOptions
{
    /// <summary>
    /// Where the embedded sender writes each message as an <c>.eml</c> file when no SMTP host is set
    /// (<c>Portal:Email:PickupDirectory</c>). Default: a <c>mail</c> folder next to the SQLite file, else in the content root.
    /// </summary>
    public string? PickupDirectory { get; set; }

    /// <summary>
    /// The address links in messages start with (<c>Portal:Email:BaseUrl</c>, e.g. <c>https://portal.example.com</c>).
    /// Unset: the address the request came in on, which is only as trustworthy as the Host header (set AllowedHosts).
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>How often the sender looks for due retries when nothing wakes it (<c>Portal:Email:PollSeconds</c>).</summary>
    public int PollSeconds { get; set; } = 5;

    public SmtpOptions Smtp { get; set; } = new();
}

public enum SmtpTls
{
    None,
    StartTls,
    SslOnConnect,
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string? User { get; set; }
    public string? Password { get; set; }
    public SmtpTls Tls { get; set; } = SmtpTls.StartTls;

    /// <summary>The sender address (<c>Portal:Email:Smtp:From</c>); also used by the pickup folder. Default <c>portal@localhost</c>.</summary>
    public string From { get; set; } = "portal@localhost";
}
