using System.Threading.Channels;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Email;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Profile;

/// <summary>
/// Email confirmation of self-service sign-ups (<c>Portal:SignUp:RequireConfirmedEmail</c>). The link holds Identity's
/// email-confirmation token, which carries the security stamp; confirming changes the stamp, so a link works once.
/// Its lifetime is <see cref="LinkLifetime"/> (the host gives the confirmation provider that lifespan). Until the user
/// confirms, sign-in refuses them and their keys do not work (<see cref="KeyHolders"/>); the confirmation's save drops
/// what the key and verification caches hold about them, on every instance (<see cref="CacheInvalidation"/>). A resend
/// by address is only queued (<see cref="RequestResend"/>), as a forgot-password request is: whoever asks gets the same
/// answer in the same time whether or not the address belongs to an account waiting for its link; the background loop
/// (<see cref="RunAsync"/>) looks it up and sends.
/// </summary>
public sealed class EmailConfirmationService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IServiceScopeFactory scopes,
    ILookupNormalizer normalizer,
    EmailOutbox outbox,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<EmailConfirmationService> logger)
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(24);
    public const string Subject = "Confirm your email address";
    public const string TokenProvider = "EmailConfirmation";

    public bool Required => options.Value.SignUp.RequireConfirmedEmail;

    /// <summary>
    /// Queues the confirmation email for an unconfirmed user, under the per-address limit (<c>ConfirmationsPerHour</c>).
    /// Answers whether it did; the caller's answer to the person asking is the same either way.
    /// </summary>
    public async Task<bool> SendAsync(Guid userId, string linkBase, string? ipAddress, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        return user is not null && await SendAsync(db, user, linkBase, ipAddress, ct);
    }

    /// <summary>A resend waiting to be looked at: the address as typed, where links should point, and who asked.</summary>
    public sealed record PendingResend(string Email, string LinkBase, string? IpAddress);

    // Bounded: a flood of requests costs memory up to here, then the excess is dropped (the answer stays the same).
    private readonly Channel<PendingResend> _resends = Channel.CreateBounded<PendingResend>(
        new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>
    /// "Resend the confirmation email" by address: only queued, so the answer is the same, in the same time, for every
    /// well-formed address; nothing here touches the users table.
    /// </summary>
    public Result<Unit> RequestResend(ResendConfirmation request, string linkBase, string? ipAddress)
    {
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        if (!Required) return Unit.Value;
        _resends.Writer.TryWrite(new PendingResend(request.Email.Trim(), linkBase, ipAddress));
        return Unit.Value;
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await foreach (var pending in _resends.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await ProcessResendAsync(pending, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The person asking saw the same answer anyway; they can ask again.
                logger.LogWarning(e, "A confirmation resend could not be handled");
            }
        }
    }

    /// <summary>Looks the address up and queues the email when it belongs to an unconfirmed user under the limit. Answers whether it did.</summary>
    public async Task<bool> ProcessResendAsync(PendingResend pending, CancellationToken ct = default)
    {
        if (!Required) return false;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = normalizer.NormalizeEmail(pending.Email.Trim());
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        return user is not null && await SendAsync(db, user, pending.LinkBase, pending.IpAddress, ct);
    }

    private async Task<bool> SendAsync(PortalDbContext db, PortalUser user, string linkBase, string? ipAddress, CancellationToken ct)
    {
        if (user.EmailConfirmed || user.Status != UserStatus.Active) return false;
        var now = clock.GetUtcNow();
        var userId = user.Id.ToString();
        var since = now.AddHours(-1);
        var recent = await db.Audit.CountAsync(a => a.Action == AuditActions.EmailConfirmationSent && a.TargetId == userId && a.At > since, ct);
        if (recent >= Math.Max(1, options.Value.SignUp.ConfirmationsPerHour))
        {
            logger.LogInformation("Email confirmation for user {UserId} not sent: {Count} already sent in the last hour", user.Id, recent);
            return false;
        }

        string token;
        await using (var scope = scopes.CreateAsyncScope())
            token = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().GenerateEmailConfirmationTokenAsync(user);
        var baseUrl = options.Value.Email.BaseUrl is { Length: > 0 } configured ? configured : linkBase;
        var link = $"{baseUrl.TrimEnd('/')}/account/confirm-email?user={user.Id}&token={Uri.EscapeDataString(token)}";
        var brand = await EmailTemplate.BrandAsync(db, ct);
        var message = new EmailTemplate(
            Subject,
            $"Hello {user.DisplayName},",
            [
                $"Thank you for signing up to {brand.Name} with {user.Email}.",
                "Follow the link within the next 24 hours to confirm that this address is yours. Until then you cannot sign in and your keys do not work.",
            ],
            "Confirm my email address", link,
            ["If you did not sign up, ignore this email: the account stays unusable."]).Render(user.Email!, brand);
        outbox.Add(db, message, now);
        var actor = new Actor(Guid.Empty, user.Email!, [], IpAddress: ipAddress);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.EmailConfirmationSent, now, "user", userId, user.Email));
        await db.SaveChangesAsync(ct);
        outbox.Wake();
        return true;
    }

    /// <summary>Confirms the address when the link is valid; the link stops working, the user's keys start to.</summary>
    public async Task<Result<Unit>> ConfirmAsync(Guid userId, string? token, string? ipAddress, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null || string.IsNullOrEmpty(token)) return new InvalidConfirmationLink();
        if (user.EmailConfirmed) return new EmailAlreadyConfirmed();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            if (!await users.VerifyUserTokenAsync(user, users.Options.Tokens.EmailConfirmationTokenProvider, UserManager<PortalUser>.ConfirmEmailTokenPurpose, token))
                return new InvalidConfirmationLink();
        }
        user.EmailConfirmed = true;
        // The token carries the stamp: a new one makes this link, and any other sent before, stop working.
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        user.ConcurrencyStamp = Guid.NewGuid().ToString();
        var actor = new Actor(user.Id, user.Email!, [], IpAddress: ipAddress);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.EmailConfirmed, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return new EmailAlreadyConfirmed();
        }
        return Unit.Value;
    }
}
