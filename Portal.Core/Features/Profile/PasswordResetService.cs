using System.Threading.Channels;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Email;
using Portal.Core.Features.Users;

namespace Portal.Core.Features.Profile;

/// <summary>
/// Forgot password: a request is only queued, so whoever asks gets the same answer in the same time whether or not
/// the address belongs to anyone; the background loop (<see cref="RunAsync"/>) looks the address up and, for an active
/// user under the per-email limit, queues an email with a link. The link holds Identity's reset token (its lifetime is
/// <see cref="LinkLifetime"/>, set on <c>DataProtectionTokenProviderOptions</c>), which carries the security stamp: the
/// reset changes the stamp, so a link works once.
/// </summary>
public sealed class PasswordResetService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IServiceScopeFactory scopes,
    IPasswordHasher<PortalUser> passwordHasher,
    ILookupNormalizer normalizer,
    PasswordPolicy passwordPolicy,
    EmailOutbox outbox,
    IOptions<PortalOptions> options,
    TimeProvider clock,
    ILogger<PasswordResetService> logger)
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromHours(1);
    public const string Subject = "Reset your password";

    /// <summary>A request waiting to be looked at: the address as typed, where links should point, and who asked.</summary>
    public sealed record Pending(string Email, string LinkBase, string? IpAddress);

    // Bounded: a flood of requests costs memory up to here, then the excess is dropped (the answer stays the same).
    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(1_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Queues a request. The same answer for every well-formed address; nothing here touches the users table.</summary>
    public Result<Unit> Request(ForgotPassword request, string linkBase, string? ipAddress)
    {
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        var baseUrl = options.Value.Email.BaseUrl is { Length: > 0 } configured ? configured : linkBase;
        _queue.Writer.TryWrite(new Pending(request.Email.Trim(), baseUrl.TrimEnd('/'), ipAddress));
        return Unit.Value;
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await foreach (var pending in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await ProcessAsync(pending, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The person asking sees the same answer anyway; they can ask again.
                logger.LogWarning(e, "A password reset request could not be handled");
            }
        }
    }

    /// <summary>Looks the address up and queues the email when it belongs to an active user under the per-email limit. Answers whether it did.</summary>
    public async Task<bool> ProcessAsync(Pending pending, CancellationToken ct = default)
    {
        var limits = options.Value.PasswordReset;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var normalized = normalizer.NormalizeEmail(pending.Email);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (user is null || user.Status != UserStatus.Active) return false;
        var now = clock.GetUtcNow();
        var since = now.AddMinutes(-Math.Max(1, limits.WindowMinutes));
        var userId = user.Id.ToString();
        var recent = await db.Audit.CountAsync(a => a.Action == AuditActions.PasswordResetRequested && a.TargetId == userId && a.At > since, ct);
        if (recent >= Math.Max(1, limits.PerEmailLimit))
        {
            logger.LogInformation("Password reset for user {UserId} not sent: {Count} already sent in the window", user.Id, recent);
            return false;
        }

        string token;
        await using (var scope = scopes.CreateAsyncScope())
            token = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().GeneratePasswordResetTokenAsync(user);
        var link = $"{pending.LinkBase}/account/reset-password?user={user.Id}&token={Uri.EscapeDataString(token)}";
        var brand = await EmailTemplate.BrandAsync(db, ct);
        var message = new EmailTemplate(
            Subject,
            $"Hello {user.DisplayName},",
            [
                $"Someone (we hope you) asked to reset the password of your {brand.Name} account ({user.Email}).",
                "Follow the link within the next hour to choose a new password. It works once.",
            ],
            "Choose a new password", link,
            ["If you did not ask for this, ignore this email: your password stays as it is."]).Render(user.Email!, brand);
        outbox.Add(db, message, now);
        var actor = new Actor(Guid.Empty, user.Email!, [], IpAddress: pending.IpAddress);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.PasswordResetRequested, now, "user", userId, user.Email));
        await db.SaveChangesAsync(ct);
        outbox.Wake();
        return true;
    }

    /// <summary>Whether a link still works (the reset page shows the form only then).</summary>
    public async Task<bool> IsValidAsync(Guid userId, string? token, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        return await IsValidAsync(user, token);
    }

    private async Task<bool> IsValidAsync(PortalUser? user, string? token)
    {
        if (user is not { Status: UserStatus.Active } || string.IsNullOrEmpty(token)) return false;
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        // The token carries the stamp it was made with; Identity compares it with this user object's stamp.
        return await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<PortalUser>.ResetPasswordTokenPurpose, token);
    }

    /// <summary>Sets the new password when the link is valid; every session of the user ends and the link stops working.</summary>
    public async Task<Result<Unit>> ResetAsync(ResetPasswordWithLink request, string? ipAddress, CancellationToken ct = default)
    {
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == request.UserId, ct);
        if (!await IsValidAsync(user, request.Token)) return new InvalidResetLink();
        if (passwordPolicy.Check(request.Password) is { Length: > 0 } problems) return ValidationError.For("password", problems);
        user!.PasswordHash = passwordHasher.HashPassword(user, request.Password);
        user.SecurityStamp = Guid.NewGuid().ToString("N");
        // The concurrency token: a second use of the same link racing this one fails its save instead of winning too.
        user.ConcurrencyStamp = Guid.NewGuid().ToString();
        user.AccessFailedCount = 0;
        user.LockoutEnd = null;
        var actor = new Actor(user.Id, user.Email!, [], IpAddress: ipAddress);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.PasswordResetByEmail, clock.GetUtcNow(), "user", user.Id.ToString(), user.Email));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return new InvalidResetLink();
        }
        return Unit.Value;
    }
}
