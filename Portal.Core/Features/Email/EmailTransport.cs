using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Portal.Core.Features.Email;

/// <summary>Hands one message to whatever carries it on. Throws when it could not; the outbox then tries again later.</summary>
public interface IEmailTransport
{
    Task SendAsync(MimeMessage message, CancellationToken ct);
}

/// <summary>An SMTP server through MailKit: a connection per round of messages is plenty for password resets.</summary>
public sealed class SmtpEmailTransport(IOptions<PortalOptions> options) : IEmailTransport
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var smtp = options.Value.Email.Smtp;
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        var tls = smtp.Tls switch
        {
            SmtpTls.None => SecureSocketOptions.None,
            SmtpTls.SslOnConnect => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.StartTls,
        };
        await client.ConnectAsync(smtp.Host ?? "localhost", smtp.Port, tls, ct);
        if (!string.IsNullOrEmpty(smtp.User)) await client.AuthenticateAsync(smtp.User, smtp.Password ?? "", ct);
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}

/// <summary>
/// The embedded default: each message becomes an <c>.eml</c> file in a folder, so <c>dotnet run</c> works with no mail
/// server and a developer opens the file to follow a link. The log names the file, never its body (reset links).
/// </summary>
public sealed class PickupDirectoryTransport(EmailPickupDirectory folder, ILogger<PickupDirectoryTransport> logger) : IEmailTransport
{
    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        Directory.CreateDirectory(folder.Path);
        var name = $"{DateTime.UtcNow:yyyyMMdd'T'HHmmss}-{Guid.NewGuid():N}.eml";
        var path = System.IO.Path.Combine(folder.Path, name);
        var partial = path + ".tmp";
        // Written under another name first: a reader watching the folder never opens half a message.
        await using (var file = File.Create(partial))
            await message.WriteToAsync(file, ct);
        File.Move(partial, path);
        logger.LogInformation("Email to {To} written to {Path}", message.To.ToString(), path);
    }
}

/// <summary>The pickup folder, resolved once by the host (it knows the SQLite file and the content root).</summary>
public sealed record EmailPickupDirectory(string Path);
