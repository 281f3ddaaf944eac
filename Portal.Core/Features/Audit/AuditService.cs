using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;

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
        if (Refusal(actor, query) is { } refused) return refused;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Filtered(db, query).ToPageAsync(query, ct);
    }

    /// <summary>
    /// Every entry the list would page through with the same filters, in the same order, read by one query as the
    /// caller reads the stream (a CSV export): the rows go out as they arrive, none is held.
    /// </summary>
    public Task<Result<RowStream<AuditEntryDto>>> ExportAsync(Actor actor, AuditQuery query, CancellationToken ct = default)
    {
        _ = ct;
        query = query with { Page = 1 };
        Result<RowStream<AuditEntryDto>> result = Refusal(actor, query) is { } refused ? refused : new RowStream<AuditEntryDto>(StreamAsync(query));
        return Task.FromResult(result);
    }

    private async IAsyncEnumerable<AuditEntryDto> StreamAsync(AuditQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await foreach (var entry in Filtered(db, query).AsAsyncEnumerable().WithCancellation(ct))
            yield return entry;
    }

    private static Error? Refusal(Actor actor, AuditQuery query)
    {
        if (!actor.Can(Permission.AuditRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (query.From > query.To) return ValidationError.For("from", "'from' must be before 'to'.");
        return null;
    }

    /// <summary>The entries matching the filters, in the list's order (ties by id, so a page and an export agree).</summary>
    private static IQueryable<AuditEntryDto> Filtered(PortalDbContext db, AuditQuery query)
    {
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
        entries = query.Sort == "at" ? entries.OrderBy(e => e.At).ThenBy(e => e.Id) : entries.OrderByDescending(e => e.At).ThenByDescending(e => e.Id);
        return entries.Select(e => new AuditEntryDto(e.Id, e.At, e.ActorId, e.ActorEmail, e.Action, e.TargetType, e.TargetId, e.Target, e.Details, e.IpAddress));
    }
}
