using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Notifications;

namespace Portal.Core.Features.Subscriptions;

/// <summary>
/// Registrations of applications to products. Developers subscribe and unsubscribe their accounts' applications and
/// see their registrations (another account's answers not-found); admins see all and approve, reject or unregister.
/// </summary>
public sealed class SubscriptionService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock, Notifier notifier)
{
    public async Task<Result<PagedResult<SubscriptionDto>>> ListAsync(Actor actor, SubscriptionQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        if (query.Status is { } s && !Enum.IsDefined(s)) return ValidationError.For("status", "Status is WAITING, APPROVED, REJECTED or UNSUBSCRIBED.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        var rows = Filtered(db, actor, query);
        var countable = Unsearched(db, actor, query);
        if (query.Status is { } status)
        {
            rows = rows.Where(r => r.Sub.Status == status);
            countable = countable?.Where(s => s.Status == status);
        }
        rows = (query.Sort ?? "-createdAt") switch
        {
            "createdAt" => rows.OrderBy(r => r.Sub.CreatedAt).ThenBy(r => r.Sub.Id),
            "status" => rows.OrderBy(r => r.Sub.Status).ThenByDescending(r => r.Sub.CreatedAt),
            "product" => rows.OrderBy(r => r.ProductName).ThenByDescending(r => r.Sub.CreatedAt),
            "-product" => rows.OrderByDescending(r => r.ProductName).ThenByDescending(r => r.Sub.CreatedAt),
            "application" => rows.OrderBy(r => r.ApplicationName).ThenByDescending(r => r.Sub.CreatedAt),
            "-application" => rows.OrderByDescending(r => r.ApplicationName).ThenByDescending(r => r.Sub.CreatedAt),
            "account" => rows.OrderBy(r => r.AccountName).ThenByDescending(r => r.Sub.CreatedAt),
            "-account" => rows.OrderByDescending(r => r.AccountName).ThenByDescending(r => r.Sub.CreatedAt),
            _ => rows.OrderByDescending(r => r.Sub.CreatedAt).ThenByDescending(r => r.Sub.Id),
        };
        var page = countable is null ? await rows.ToPageAsync(query, ct) : await rows.ToPageAsync(query, countable, ct);
        return new PagedResult<SubscriptionDto>(page.Items.Select(ToDto).ToList(), page.Page, page.PageSize, page.Total);
    }

    /// <summary>
    /// How many registrations of each status match <paramref name="query"/>'s other filters (its status, paging and
    /// sort are ignored): one grouped COUNT, for a page's status tabs.
    /// </summary>
    public async Task<Result<IReadOnlyDictionary<SubscriptionStatus, int>>> CountByStatusAsync(Actor actor, SubscriptionQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var counts = Unsearched(db, actor, query) is { } subscriptions
            ? await subscriptions.GroupBy(s => s.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Status, x => x.Count, ct)
            : await Filtered(db, actor, query).GroupBy(r => r.Sub.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Status, x => x.Count, ct);
        return Enum.GetValues<SubscriptionStatus>().ToDictionary(status => status, status => counts.GetValueOrDefault(status));
    }

    /// <summary>
    /// Without a search, the registrations <see cref="Filtered"/> holds, as the one table: what its counts read (every
    /// registration has its account, product and plan, required keys, so the joins change no count). Null with a
    /// search, which matches the joined names.
    /// </summary>
    private static IQueryable<Subscription>? Unsearched(PortalDbContext db, Actor actor, SubscriptionQuery query) =>
        string.IsNullOrWhiteSpace(query.Search) ? Narrowed(db, actor, query) : null;

    private static IQueryable<Subscription> Narrowed(PortalDbContext db, Actor actor, SubscriptionQuery query)
    {
        var subscriptions = Scoped(db, actor);
        if (query.ApplicationId is { } applicationId) subscriptions = subscriptions.Where(s => s.ApplicationId == applicationId);
        if (query.ProductId is { } productId) subscriptions = subscriptions.Where(s => s.ProductId == productId);
        if (query.AccountId is { } accountId) subscriptions = subscriptions.Where(s => s.AccountId == accountId);
        if (query.Mine) subscriptions = subscriptions.Where(s => Membership.AccountIdsOf(db, actor).Contains(s.AccountId));
        return subscriptions;
    }

    /// <summary>The rows the actor may see, narrowed by every filter of <paramref name="query"/> but its status.</summary>
    private static IQueryable<Row> Filtered(PortalDbContext db, Actor actor, SubscriptionQuery query)
    {
        var rows = Rows(db, Narrowed(db, actor, query));
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLower();
            // Applications and accounts through their name indexes; products are few and read as they are; the
            // registrations of removed applications (few, through the application index) by the name they keep.
            if (NameSearch.Applications(db, query.Search) is { } applications && NameSearch.Accounts(db, query.Search) is { } accounts)
            {
                var products = db.Products.Where(p => p.Name.ToLower().Contains(term)).Select(p => p.Id);
                rows = rows.Where(r => (r.Sub.ApplicationId != null && applications.Contains(r.Sub.ApplicationId.Value))
                    || (r.Sub.ApplicationId == null && r.Sub.ApplicationName.ToLower().Contains(term))
                    || accounts.Contains(r.Sub.AccountId) || products.Contains(r.Sub.ProductId));
            }
            else
                rows = rows.Where(r => r.ApplicationName.ToLower().Contains(term) || r.AccountName.ToLower().Contains(term) || r.ProductName.ToLower().Contains(term));
        }
        return rows;
    }

    public async Task<Result<SubscriptionDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsRead)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await Rows(db, actor).FirstOrDefaultAsync(r => r.Sub.Id == id, ct);
        return row is null ? Errors.NotFound : ToDto(row);
    }

    /// <summary>WAITING, or APPROVED at once when the product needs no approval; 409 while one is open for the product.</summary>
    public async Task<Result<SubscriptionDto>> CreateAsync(Actor actor, CreateSubscription request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsWrite)) return Errors.Forbidden;
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        var (applicationId, productId, planId) = (request.ApplicationId!.Value, request.ProductId!.Value, request.PlanId!.Value);
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        // The application must be one the actor may change: their accounts' own, or any for those who manage all.
        if (await Membership.FindChangeableApplicationAsync(db, actor, applicationId, ct) is not { } found) return new NotFoundError("There is no such application among yours.");
        if (found.Error is { } error) return error;
        var app = found.App!;
        var seesDrafts = actor.Can(Permission.ProductsReadAll);
        var product = await db.Products.AsNoTracking()
            .Where(p => p.Id == productId && (p.Published || seesDrafts))
            .Select(p => new { p.Name, p.RequiresApproval })
            .FirstOrDefaultAsync(ct);
        if (product is null) return new NotFoundError("There is no such product.");
        var planName = await db.Plans.Where(p => p.Id == planId && p.ProductId == productId).Select(p => p.Name).FirstOrDefaultAsync(ct);
        if (planName is null) return ValidationError.For("planId", $"This plan is not one of the plans of '{product.Name}'.");
        if (await OpenStatusAsync(db, applicationId, productId, ct) is { } open) return new AlreadySubscribed(app.Name, product.Name, open);

        var now = clock.GetUtcNow();
        var by = ActorId(actor);
        var subscription = new Subscription
        {
            ApplicationId = applicationId,
            ApplicationName = app.Name,
            AccountId = app.AccountId,
            ProductId = productId,
            PlanId = planId,
            Status = product.RequiresApproval ? SubscriptionStatus.Waiting : SubscriptionStatus.Approved,
            CreatedAt = now,
            CreatedBy = by,
            DecidedAt = product.RequiresApproval ? null : now,
        };
        db.Subscriptions.Add(subscription);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.SubscriptionCreated, now, "subscription", subscription.Id.ToString(), $"{app.Name} → {product.Name}",
            $"plan: {planName}; status: {subscription.Status.Label()}{(product.RequiresApproval ? "" : " (no approval needed)")}"));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two subscribes raced past the check above; the filtered unique index IX_Subscriptions_Open decided.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            if (await OpenStatusAsync(check, applicationId, productId, ct) is { } raced) return new AlreadySubscribed(app.Name, product.Name, raced);
            // Or the application, product or plan was deleted meanwhile (the foreign key refused the row): it is gone.
            if (!await check.Applications.AnyAsync(a => a.Id == applicationId, ct) || !await check.Products.AnyAsync(p => p.Id == productId, ct)
                || !await check.Plans.AnyAsync(p => p.Id == subscription.PlanId, ct))
                return Errors.NotFound;
            throw;
        }
        var created = await Rows(db, Actor.System).FirstAsync(r => r.Sub.Id == subscription.Id, ct);
        return ToDto(created);
    }

    /// <summary>Only from WAITING (409 otherwise).</summary>
    public Task<Result<SubscriptionDto>> ApproveAsync(Actor actor, Guid id, DecideSubscription request, CancellationToken ct = default) =>
        DecideAsync(actor, id, request, SubscriptionStatus.Approved, ct);

    /// <summary>Only from WAITING (409 otherwise); the reason is shown to the developer.</summary>
    public Task<Result<SubscriptionDto>> RejectAsync(Actor actor, Guid id, DecideSubscription request, CancellationToken ct = default) =>
        DecideAsync(actor, id, request, SubscriptionStatus.Rejected, ct);

    /// <summary>From WAITING or APPROVED (409 otherwise); verification refuses the application's keys on the next call.</summary>
    public async Task<Result<SubscriptionDto>> UnsubscribeAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.SubscriptionsWrite) && !actor.Can(Permission.SubscriptionsManage)) return Errors.Forbidden;
        return await MoveAsync(actor, id, SubscriptionStatus.Unsubscribed, null, ct);
    }

    private async Task<Result<SubscriptionDto>> DecideAsync(Actor actor, Guid id, DecideSubscription? request, SubscriptionStatus to, CancellationToken ct)
    {
        if (!actor.Can(Permission.SubscriptionsManage)) return Errors.Forbidden;
        request ??= new DecideSubscription();
        if (RequestValidation.Validate(request) is { } invalid) return invalid;
        return await MoveAsync(actor, id, to, string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim(), ct);
    }

    /// <summary>
    /// One status change. The update is conditional on the status the check saw, so of two racing changes (an approve
    /// and an unsubscribe, say) exactly one wins and the other answers 409.
    /// </summary>
    private async Task<Result<SubscriptionDto>> MoveAsync(Actor actor, Guid id, SubscriptionStatus to, string? reason, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await Rows(db, actor).FirstOrDefaultAsync(r => r.Sub.Id == id, ct);
        if (row is null) return Errors.NotFound;
        // Unregistering someone's application: its owners (who may change it) or those who manage subscriptions.
        if (to == SubscriptionStatus.Unsubscribed && !actor.Can(Permission.SubscriptionsManage)
            && !(actor.Can(Permission.SubscriptionsWrite) && (actor.Can(Permission.ApplicationsManageAll) || await Membership.IsMemberAsync(db, actor, row.AccountId, ct))))
            return Errors.Forbidden;
        var sub = row.Sub;
        if (Refusal(sub.Status, to) is { } refused) return refused;

        var now = clock.GetUtcNow();
        var by = ActorId(actor);
        var from = sub.Status;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var seen = db.Subscriptions.Where(s => s.Id == id && s.Status == from);
        var changed = to == SubscriptionStatus.Unsubscribed
            ? await EndAsync(seen, now, by, ct)
            : await seen.ExecuteUpdateAsync(set =>
            {
                set.SetProperty(s => s.Status, to);
                set.SetProperty(s => s.DecidedAt, now);
                set.SetProperty(s => s.DecidedBy, by);
                if (to == SubscriptionStatus.Rejected) set.SetProperty(s => s.Reason, reason);
            }, ct);
        if (changed == 0)
        {
            var current = await db.Subscriptions.Where(s => s.Id == id).Select(s => (SubscriptionStatus?)s.Status).FirstOrDefaultAsync(ct);
            return current is { } status ? Refusal(status, to) ?? new ConflictError("This registration changed meanwhile: try again.") : Errors.NotFound;
        }
        var action = to switch
        {
            SubscriptionStatus.Approved => AuditActions.SubscriptionApproved,
            SubscriptionStatus.Rejected => AuditActions.SubscriptionRejected,
            _ => AuditActions.SubscriptionUnsubscribed,
        };
        db.Audit.Add(Audited(actor, action, now, id, row.ApplicationName, row.ProductName, row.PlanName, from, to,
            reason is null ? null : $"reason: {Truncate(reason, 500)}"));
        var mailed = to is SubscriptionStatus.Approved or SubscriptionStatus.Rejected && await NotifyDecisionAsync(db, row, to, reason, now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (mailed) notifier.Wake();

        sub.Status = to;
        if (to == SubscriptionStatus.Unsubscribed) (sub.EndedAt, sub.EndedBy) = (now, by);
        else (sub.DecidedAt, sub.DecidedBy) = (now, by);
        if (to == SubscriptionStatus.Rejected) sub.Reason = reason;
        return ToDto(row);
    }

    /// <summary>The decision by email to the application's account members who want it, in the decision's own save.</summary>
    private async Task<bool> NotifyDecisionAsync(PortalDbContext db, Row row, SubscriptionStatus to, string? reason, DateTimeOffset now, CancellationToken ct)
    {
        var approved = to == SubscriptionStatus.Approved;
        var account = row.AccountName;
        var link = row.Sub.ApplicationId is { } appId ? notifier.Link($"/applications/{appId}") : null;
        var template = approved
            ? NotificationEmails.SubscriptionApproved(row.ApplicationName, row.ProductName, row.PlanName, account, link)
            : NotificationEmails.SubscriptionRejected(row.ApplicationName, row.ProductName, row.PlanName, account, reason, link);
        var kind = approved ? NotificationKind.SubscriptionApproved : NotificationKind.SubscriptionRejected;
        return await notifier.AddAsync(db, Notifier.AccountMembers(db, row.AccountId, kind), template, null, now, ct) > 0;
    }

    /// <summary>
    /// Ends the open registrations of an application being removed, as unsubscribing each would (the same rule, the same
    /// audit entry), and writes the application's last name on all of them, ended ones too, for when it is gone. Call in
    /// the removal's transaction, before the application row goes; the audit entries are added to <paramref name="db"/>
    /// for the removal's save. Returns how many ended.
    /// </summary>
    internal static async Task<int> EndForRemovedApplicationAsync(PortalDbContext db, Actor actor, Application app, DateTimeOffset now, CancellationToken ct)
    {
        var its = db.Subscriptions.Where(s => s.ApplicationId == app.Id);
        var open = await (from s in its
                          where s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved
                          join p in db.Products on s.ProductId equals p.Id
                          join pl in db.Plans on s.PlanId equals pl.Id
                          select new { s.Id, s.Status, ProductName = p.Name, PlanName = pl.Name })
            .ToListAsync(ct);
        await its.ExecuteUpdateAsync(set => set.SetProperty(s => s.ApplicationName, app.Name), ct);
        var ended = await EndAsync(its, now, ActorId(actor), ct);
        foreach (var s in open)
            db.Audit.Add(Audited(actor, AuditActions.SubscriptionUnsubscribed, now, s.Id, app.Name, s.ProductName, s.PlanName,
                s.Status, SubscriptionStatus.Unsubscribed, "the application was removed"));
        return ended;
    }

    /// <summary>
    /// The one unsubscribe rule, for a single registration and for a removed application's: the WAITING or APPROVED
    /// ones among <paramref name="subscriptions"/> become UNSUBSCRIBED, with when and by whom. Returns how many.
    /// </summary>
    private static Task<int> EndAsync(IQueryable<Subscription> subscriptions, DateTimeOffset now, Guid? by, CancellationToken ct) =>
        subscriptions
            .Where(s => s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved)
            .ExecuteUpdateAsync(set => set
                .SetProperty(s => s.Status, SubscriptionStatus.Unsubscribed)
                .SetProperty(s => s.EndedAt, now)
                .SetProperty(s => s.EndedBy, by), ct);

    private static AuditEntry Audited(Actor actor, string action, DateTimeOffset now, Guid id, string applicationName, string productName,
        string planName, SubscriptionStatus from, SubscriptionStatus to, string? note) =>
        AuditEntry.For(actor, action, now, "subscription", id.ToString(), $"{applicationName} → {productName}",
            $"{from.Label()} → {to.Label()}; plan: {planName}{(note is null ? "" : $"; {note}")}");

    private static Error? Refusal(SubscriptionStatus from, SubscriptionStatus to) => to switch
    {
        SubscriptionStatus.Unsubscribed when from is not (SubscriptionStatus.Waiting or SubscriptionStatus.Approved) => new SubscriptionAlreadyEnded(from),
        SubscriptionStatus.Approved or SubscriptionStatus.Rejected when from != SubscriptionStatus.Waiting => new SubscriptionNotWaiting(from),
        _ => null,
    };

    private static Task<SubscriptionStatus?> OpenStatusAsync(PortalDbContext db, Guid applicationId, Guid productId, CancellationToken ct) =>
        db.Subscriptions
            .Where(s => s.ApplicationId == applicationId && s.ProductId == productId
                && (s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved))
            .Select(s => (SubscriptionStatus?)s.Status)
            .FirstOrDefaultAsync(ct);

    // Member-init, not a constructor: EF can filter and sort through its properties.
    private sealed class Row
    {
        public required Subscription Sub { get; init; }
        public required string ApplicationName { get; init; }
        public required Guid AccountId { get; init; }
        public required string AccountName { get; init; }
        public required string ProductName { get; init; }
        public required string ProductSlug { get; init; }
        public required string? ProductDescription { get; init; }
        public required string PlanName { get; init; }
    }

    /// <summary>
    /// The registrations the actor may see, with the names the pages show. Those who see or manage all subscriptions
    /// see every one; an application key its application's; everyone else their accounts' (as <see cref="ApplicationService"/>
    /// shows them their accounts' applications), including those of applications since removed.
    /// </summary>
    internal static IQueryable<Subscription> Scoped(PortalDbContext db, Actor actor)
    {
        var subscriptions = db.Subscriptions.AsNoTracking();
        if (!actor.Can(Permission.SubscriptionsReadAll) && !actor.Can(Permission.SubscriptionsManage))
            subscriptions = actor.ApplicationId is { } own
                ? subscriptions.Where(s => s.ApplicationId == own)
                : subscriptions.Where(s => Membership.AccountIdsOf(db, actor).Contains(s.AccountId));
        return subscriptions;
    }

    private static IQueryable<Row> Rows(PortalDbContext db, Actor actor) => Rows(db, Scoped(db, actor));

    private static IQueryable<Row> Rows(PortalDbContext db, IQueryable<Subscription> subscriptions)
    {
        return from s in subscriptions
               join a in db.Applications on s.ApplicationId equals a.Id into live
               from a in live.DefaultIfEmpty()
               join acc in db.Accounts on s.AccountId equals acc.Id
               join p in db.Products on s.ProductId equals p.Id
               join pl in db.Plans on s.PlanId equals pl.Id
               select new Row
               {
                   Sub = s,
                   // The application's own name while it exists (it may have been renamed), the kept one once it is gone.
                   ApplicationName = a == null ? s.ApplicationName : a.Name,
                   AccountId = s.AccountId,
                   AccountName = acc.Name,
                   ProductName = p.Name,
                   ProductSlug = p.Slug,
                   ProductDescription = p.Title ?? p.Description,
                   PlanName = pl.Name,
               };
    }

    private static Guid? ActorId(Actor actor) => actor.UserId == Guid.Empty ? null : actor.UserId;

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    private static SubscriptionDto ToDto(Row r) => new(
        r.Sub.Id, r.Sub.Status, r.Sub.ApplicationId, r.ApplicationName, r.AccountId, r.AccountName,
        r.Sub.ProductId, r.ProductName, r.ProductSlug, r.ProductDescription, r.Sub.PlanId, r.PlanName,
        r.Sub.Reason, r.Sub.CreatedAt, r.Sub.DecidedAt, r.Sub.EndedAt);
}
