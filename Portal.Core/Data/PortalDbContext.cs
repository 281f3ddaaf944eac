using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Core.Features.Webhooks;

namespace Portal.Core.Data;

/// <summary>
/// The model, and on SQLite the context itself (its migrations are <c>Portal.Core/Migrations</c>). PostgreSQL runs
/// the same model through <see cref="PostgresPortalDbContext"/>, which only exists to own a migration set of its own.
/// </summary>
public class PortalDbContext : IdentityDbContext<PortalUser, PortalRole, Guid>, IDataProtectionKeyContext
{
    public PortalDbContext(DbContextOptions<PortalDbContext> options) : base(options)
    {
    }

    /// <summary>For a provider's subclass, which passes options of its own type.</summary>
    protected PortalDbContext(DbContextOptions options) : base(options)
    {
    }

    public DbSet<OrganisationProfile> Organisation => Set<OrganisationProfile>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<UsageEvent> UsageEvents => Set<UsageEvent>();
    public DbSet<UsageRollup> UsageRollups => Set<UsageRollup>();
    public DbSet<UsageHour> UsageHours => Set<UsageHour>();
    public DbSet<UsageOutcomeHour> UsageOutcomeHours => Set<UsageOutcomeHour>();
    public DbSet<UsageKeyDay> UsageKeyDays => Set<UsageKeyDay>();
    public DbSet<UsageApplicationRollup> UsageApplicationRollups => Set<UsageApplicationRollup>();
    public DbSet<UsageProductRollup> UsageProductRollups => Set<UsageProductRollup>();
    public DbSet<UsageVerificationHour> UsageVerificationHours => Set<UsageVerificationHour>();
    public DbSet<UsageRefusalMinute> UsageRefusalMinutes => Set<UsageRefusalMinute>();
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<AccountMember> AccountMembers => Set<AccountMember>();
    public DbSet<Application> Applications => Set<Application>();
    public DbSet<ApiProduct> Products => Set<ApiProduct>();
    public DbSet<Plan> Plans => Set<Plan>();
    public DbSet<Subscription> Subscriptions => Set<Subscription>();
    public DbSet<QuotaCounter> QuotaCounters => Set<QuotaCounter>();
    public DbSet<Features.Billing.BillingStatement> BillingStatements => Set<Features.Billing.BillingStatement>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();
    public DbSet<WebhookOutboxEvent> WebhookOutbox => Set<WebhookOutboxEvent>();
    public DbSet<Features.Email.EmailOutboxMessage> EmailOutbox => Set<Features.Email.EmailOutboxMessage>();
    public DbSet<Features.Notifications.NotificationPreference> NotificationPreferences => Set<Features.Notifications.NotificationPreference>();
    public DbSet<Features.Notifications.ApiKeyNotice> ApiKeyNotices => Set<Features.Notifications.ApiKeyNotice>();
    public DbSet<Features.Quotas.BillingAlert> BillingAlerts => Set<Features.Quotas.BillingAlert>();

    /// <summary>The Data Protection key ring (it encrypts webhook secrets and sign-in cookies): kept with the data, so it survives restarts and moves with backups.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys { get; set; } = null!;

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configuration)
    {
        // SQLite cannot order or compare DateTimeOffset; ticks in UTC keep both working and sortable.
        if (Database.IsSqlite())
            configuration.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToUtcTicksConverter>();
    }
}
