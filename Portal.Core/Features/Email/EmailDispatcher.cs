using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using Portal.Core.Data;

namespace Portal.Core.Features.Email;

/// <summary>
/// Sends the outbox's due messages through the configured <see cref="IEmailTransport"/>, each claimed first by a
/// conditional update only one instance can win, and schedules a retry for each one the transport refused. The web
/// host runs <see cref="RunAsync"/> in the background; tests call <see cref="SendDueAsync"/> with a fake clock.
/// </summary>
public sealed class EmailDispatcher(
    IDbContextFactory<PortalDbContext> dbFactory,
    IEmailTransport transport,
    EmailOutbox outbox,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<EmailDispatcher> logger)
{
    public const int BatchSize = 20;

    /// <summary>The wait after the 1st, 2nd, … failed attempt; a failure after the last step marks the message Failed (8 attempts in all, about a day).</summary>
    public static readonly IReadOnlyList<TimeSpan> RetrySchedule =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15),
        TimeSpan.FromHours(1), TimeSpan.FromHours(4), TimeSpan.FromHours(12),
    ];

    /// <summary>How long a claimed message stays with the instance that claimed it: longer than a send can take.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var poll = TimeSpan.FromSeconds(Math.Max(1, options.Value.Email.PollSeconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await SendDueAsync(stoppingToken) > 0)
                {
                }
                await outbox.Signal.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Email sending failed; trying again in {Interval}", poll);
                try
                {
                    await Task.Delay(poll, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One round: claims up to <see cref="BatchSize"/> due messages and sends them one by one. Answers how many it claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var lease = now + Lease;
        var claimed = new List<EmailOutboxMessage>();
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var due = await db.EmailOutbox.AsNoTracking()
                .Where(m => m.Status == EmailStatus.Pending && m.NextAttemptAt <= now)
                .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id)
                .Take(BatchSize)
                .ToListAsync(ct);
            foreach (var m in due)
            {
                var won = await db.EmailOutbox
                    .Where(x => x.Id == m.Id && x.Status == EmailStatus.Pending && x.NextAttemptAt <= now)
                    .ExecuteUpdateAsync(u => u.SetProperty(x => x.NextAttemptAt, lease), ct);
                if (won == 1) claimed.Add(m);
            }
        }
        for (var i = 0; i < claimed.Count; i++)
        {
            var error = await TrySendAsync(claimed[i], ct);
            await RecordAsync(claimed[i], lease, error, ct);
            if (error is null) continue;
            // The transport refused one: the server is likely down for the rest too. They wait for their claims to run out.
            await ReleaseAsync(claimed.Skip(i + 1), lease, ct);
            break;
        }
        return claimed.Count;
    }

    private async Task<string?> TrySendAsync(EmailOutboxMessage m, CancellationToken ct)
    {
        try
        {
            await transport.SendAsync(ToMime(m, options.Value.Email.Smtp.From), ct);
            return null;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            logger.LogWarning("Email {MessageId} not sent: {Error}", m.Id, e.Message);
            return Truncate(e.Message, 500);
        }
    }

    private async Task RecordAsync(EmailOutboxMessage m, DateTimeOffset lease, string? error, CancellationToken ct)
    {
        var at = clock.GetUtcNow();
        var attempts = m.Attempts + 1;
        var status = error is null ? EmailStatus.Sent : attempts > RetrySchedule.Count ? EmailStatus.Failed : EmailStatus.Pending;
        DateTimeOffset? next = status == EmailStatus.Pending ? at + RetrySchedule[attempts - 1] : null;
        DateTimeOffset? sentAt = status == EmailStatus.Sent ? at : null;
        var keepBodies = status == EmailStatus.Pending;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.EmailOutbox
            .Where(x => x.Id == m.Id && x.NextAttemptAt == lease)
            .ExecuteUpdateAsync(u =>
            {
                u.SetProperty(x => x.Attempts, attempts)
                    .SetProperty(x => x.Status, status)
                    .SetProperty(x => x.NextAttemptAt, next)
                    .SetProperty(x => x.SentAt, sentAt)
                    .SetProperty(x => x.LastError, error);
                if (!keepBodies) u.SetProperty(x => x.TextBody, "").SetProperty(x => x.HtmlBody, "");
            }, ct);
        if (status != EmailStatus.Pending)
            logger.LogInformation("Email {MessageId}, attempt {Attempt}: {Status}", m.Id, attempts, status);
    }

    private async Task ReleaseAsync(IEnumerable<EmailOutboxMessage> rest, DateTimeOffset lease, CancellationToken ct)
    {
        var later = clock.GetUtcNow() + RetrySchedule[0];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var m in rest)
            await db.EmailOutbox.Where(x => x.Id == m.Id && x.NextAttemptAt == lease)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.NextAttemptAt, later), ct);
    }

    internal static MimeMessage ToMime(EmailOutboxMessage m, string from)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(m.To));
        message.Subject = m.Subject;
        message.MessageId = $"{m.Id:N}@portal";
        message.Body = new BodyBuilder { TextBody = m.TextBody, HtmlBody = m.HtmlBody }.ToMessageBody();
        return message;
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
