using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Webhooks;

namespace Portal.Core.Features.Audit;

public sealed record AuditEntryDto(Guid Id, DateTimeOffset At, Guid? ActorId, string Actor, string Action, string? TargetType, string? TargetId, string? Target, string? Details, string? IpAddress);

public sealed record AuditQuery : PageQuery
{
    /// <summary>The actor's user id, or part of their email.</summary>
    [StringLength(256)]
    public string? Actor { get; init; }

    /// <summary>
    /// An action name, a prefix ending in '.' such as <c>user.</c>, or a webhook event type such as <c>api_key.created</c>
    /// (the actions that raise it).
    /// </summary>
    [StringLength(64)]
    public string? Action { get; init; }

    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
}

public sealed class AuditService(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<Result<PagedResult<AuditEntryDto>>> ListAsync(Actor actor, AuditQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.AuditRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (query.From > query.To) return ValidationError.For("from", "'from' must be before 'to'.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        var entries = db.Audit.AsNoTracking();
        if (Guid.TryParse(query.Actor, out var actorId))
        {
            entries = entries.Where(e => e.ActorId == actorId);
        }
        else if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            var term = query.Actor.Trim().ToLower();
            entries = entries.Where(e => e.ActorEmail.ToLower().Contains(term));
        }
        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            var action = query.Action.Trim();
            var raising = WebhookEventTypes.AuditActionsOf(action);
            entries = action.EndsWith('.') ? entries.Where(e => e.Action.StartsWith(action))
                : raising.Count > 0 ? entries.Where(e => e.Action == action || raising.Contains(e.Action))
                : entries.Where(e => e.Action == action);
        }
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLower();
            entries = entries.Where(e => e.Target != null && e.Target.ToLower().Contains(term) || e.ActorEmail.ToLower().Contains(term));
        }
        if (query.From is { } from) entries = entries.Where(e => e.At >= from);
        if (query.To is { } to) entries = entries.Where(e => e.At <= to);
        entries = query.Sort == "at" ? entries.OrderBy(e => e.At) : entries.OrderByDescending(e => e.At);

        var page = await entries
            .Select(e => new AuditEntryDto(e.Id, e.At, e.ActorId, e.ActorEmail, e.Action, e.TargetType, e.TargetId, e.Target, e.Details, e.IpAddress))
            .ToPageAsync(query, ct);
        return page;
    }
}
