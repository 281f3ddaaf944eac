using Portal.Core.Common;

namespace Portal.Core.Features.Audit;

public sealed class AuditEntry
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public DateTimeOffset At { get; set; }
    public Guid? ActorId { get; set; }
    public string ActorEmail { get; set; } = "";
    public string Action { get; set; } = "";
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    public string? Target { get; set; }
    public string? Details { get; set; }
    public string? IpAddress { get; set; }

    public static AuditEntry For(Actor actor, string action, DateTimeOffset at, string? targetType = null, string? targetId = null, string? target = null, string? details = null) => new()
    {
        At = at,
        ActorId = actor.UserId == Guid.Empty ? null : actor.UserId,
        ActorEmail = actor.Email,
        Action = action,
        TargetType = targetType,
        TargetId = targetId,
        Target = target,
        Details = details,
        IpAddress = actor.IpAddress,
    };
}

/// <summary>The audit catalogue: one name per kind of change, stable because filters and scripts use them.</summary>
public static class AuditActions
{
    public const string SignInSucceeded = "auth.sign-in";
    public const string SignInFailed = "auth.sign-in-failed";
    public const string SignInLockedOut = "auth.locked-out";
    public const string SignedOut = "auth.sign-out";
    public const string UserCreated = "user.created";
    public const string UserUpdated = "user.updated";
    public const string UserPasswordReset = "user.password-reset";
    public const string UserDeleted = "user.deleted";
    public const string OrganisationUpdated = "organisation.updated";
    public const string ApiKeyCreated = "api-key.created";
    public const string ApiKeyRevoked = "api-key.revoked";
    public const string ApiKeyRegenerated = "api-key.regenerated";
    public const string ApiKeyDeleted = "api-key.deleted";
    /// <summary>The system noticed a key expiring within the notice window (written once per key by the expiry sweep).</summary>
    public const string ApiKeyExpiring = "api-key.expiring";
    /// <summary>The system noticed a key past its expiry (written once per key by the expiry sweep).</summary>
    public const string ApiKeyExpired = "api-key.expired";
    /// <summary>The system noticed a subscription reach 80% or 100% of its quota (once per period and threshold).</summary>
    public const string QuotaThresholdReached = "subscription.quota-threshold";
    /// <summary>The system noticed a subscription's cost this month pass its account's spending threshold (once per month).</summary>
    public const string SpendingThresholdReached = "subscription.spending-threshold";
    /// <summary>An account's billing settings (its spending threshold) changed.</summary>
    public const string AccountBillingUpdated = "account.billing-updated";
    public const string AccountCreated = "account.created";
    public const string AccountMemberAdded = "account.member-added";
    public const string AccountMemberRemoved = "account.member-removed";
    public const string ApplicationCreated = "application.created";
    public const string ApplicationUpdated = "application.updated";
    public const string ApplicationDeleted = "application.deleted";
    public const string ApplicationKeyCreated = "application.key-created";
    public const string ApplicationKeyRevoked = "application.key-revoked";
    public const string AccountStatusChanged = "account.status-changed";
    public const string ProductCreated = "product.created";
    public const string ProductUpdated = "product.updated";
    public const string ProductDeleted = "product.deleted";
    public const string SubscriptionCreated = "subscription.created";
    public const string SubscriptionApproved = "subscription.approved";
    public const string SubscriptionRejected = "subscription.rejected";
    public const string SubscriptionUnsubscribed = "subscription.unsubscribed";
    public const string WebhookCreated = "webhook.created";
    public const string WebhookUpdated = "webhook.updated";
    public const string WebhookDeleted = "webhook.deleted";
    public const string WebhookSecretRotated = "webhook.secret-rotated";
    public const string WebhookSecretRevealed = "webhook.secret-revealed";
    public const string WebhookTestSent = "webhook.test-sent";
    public const string WebhookDeliveryRetried = "webhook.delivery-retried";
    public const string ProfileUpdated = "user.profile-updated";
    public const string PasswordChanged = "user.password-changed";
    public const string SessionsEnded = "user.sessions-ended";
    public const string PasswordResetRequested = "auth.password-reset-requested";
    public const string PasswordResetByEmail = "auth.password-reset";
    public const string EmailConfirmationSent = "auth.email-confirmation-sent";
    public const string EmailConfirmed = "auth.email-confirmed";
    public const string RecoveryCodeUsed = "auth.recovery-code-used";
    public const string TwoFactorEnabled = "user.two-factor-enabled";
    public const string TwoFactorDisabled = "user.two-factor-disabled";
    public const string RecoveryCodesRegenerated = "user.recovery-codes-regenerated";
    public const string TwoFactorReset = "user.two-factor-reset";
    /// <summary>An admin priced a closed month's statement again and stored it as a new revision.</summary>
    public const string StatementReissued = "billing.statement-reissued";

    public static readonly IReadOnlyList<string> All =
    [
        SignInSucceeded, SignInFailed, SignInLockedOut, SignedOut, UserCreated, UserUpdated,
        UserPasswordReset, UserDeleted, OrganisationUpdated,
        ApiKeyCreated, ApiKeyRevoked, ApiKeyRegenerated, ApiKeyDeleted, ApiKeyExpiring, ApiKeyExpired,
        AccountCreated, AccountMemberAdded, AccountMemberRemoved, AccountStatusChanged, AccountBillingUpdated,
        QuotaThresholdReached, SpendingThresholdReached,
        ApplicationCreated, ApplicationUpdated, ApplicationDeleted, ApplicationKeyCreated, ApplicationKeyRevoked,
        ProductCreated, ProductUpdated, ProductDeleted,
        SubscriptionCreated, SubscriptionApproved, SubscriptionRejected, SubscriptionUnsubscribed,
        WebhookCreated, WebhookUpdated, WebhookDeleted, WebhookSecretRotated, WebhookSecretRevealed, WebhookTestSent, WebhookDeliveryRetried,
        ProfileUpdated, PasswordChanged, SessionsEnded, PasswordResetRequested, PasswordResetByEmail,
        EmailConfirmationSent, EmailConfirmed, RecoveryCodeUsed, TwoFactorEnabled, TwoFactorDisabled, RecoveryCodesRegenerated, TwoFactorReset,
        StatementReissued,
    ];
}
