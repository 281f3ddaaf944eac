using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Portal.Core.Features.Webhooks;

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> endpoint)
    {
        endpoint.ToTable("WebhookEndpoints");
        endpoint.Property(e => e.Id).ValueGeneratedNever();
        endpoint.Property(e => e.Url).HasMaxLength(WebhookRules.MaxUrlLength).IsRequired();
        endpoint.Property(e => e.Description).HasMaxLength(WebhookRules.MaxDescriptionLength);
        endpoint.Property(e => e.EventTypes).HasMaxLength(2000).IsRequired();
        endpoint.Property(e => e.ProtectedSecret).HasMaxLength(1000).IsRequired();
        endpoint.Property(e => e.SecretLast4).HasMaxLength(4).IsRequired();
        endpoint.Ignore(e => e.EventTypeList);
        endpoint.HasIndex(e => e.CreatedAt);
        endpoint.HasMany<WebhookDelivery>().WithOne().HasForeignKey(d => d.EndpointId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> delivery)
    {
        delivery.ToTable("WebhookDeliveries");
        delivery.Property(d => d.Id).ValueGeneratedNever();
        delivery.Property(d => d.EventType).HasMaxLength(64).IsRequired();
        delivery.Property(d => d.Payload).IsRequired();
        delivery.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
        delivery.Property(d => d.LastError).HasMaxLength(WebhookRules.MaxErrorLength);
        delivery.HasIndex(d => new { d.EndpointId, d.CreatedAt });
        // The dispatcher's question: which pending deliveries are due.
        delivery.HasIndex(d => new { d.Status, d.NextAttemptAt });
        delivery.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> attempt)
    {
        attempt.ToTable("WebhookAttempts");
        attempt.Property(a => a.Id).ValueGeneratedNever();
        attempt.Property(a => a.Error).HasMaxLength(WebhookRules.MaxErrorLength);
        attempt.Property(a => a.ResponseSnippet).HasMaxLength(WebhookRules.MaxSnippetLength);
        attempt.HasIndex(a => new { a.DeliveryId, a.At });
    }
}

internal sealed class WebhookOutboxEventConfiguration : IEntityTypeConfiguration<WebhookOutboxEvent>
{
    public void Configure(EntityTypeBuilder<WebhookOutboxEvent> outbox)
    {
        outbox.ToTable("WebhookOutbox");
        outbox.Property(o => o.Id).ValueGeneratedNever();
        outbox.Property(o => o.Type).HasMaxLength(64).IsRequired();
        outbox.Property(o => o.Data).IsRequired();
        outbox.HasIndex(o => o.OccurredAt);
    }
}
