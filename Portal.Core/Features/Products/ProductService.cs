using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Microsoft.Extensions.Options;
using Portal.Core.Domain;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Subscriptions;

namespace Portal.Core.Features.Products;

/// <summary>
/// API products and their plans. Everyone with <see cref="Permission.ProductsRead"/> sees published products (the
/// catalog); <see cref="Permission.ProductsReadAll"/> also sees drafts; <see cref="Permission.ProductsManage"/> changes them.
/// </summary>
public sealed class ProductService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IUpstreamCredentialProtector credentials,
    IOptions<PortalOptions> options,
    TimeProvider clock)
{
    public async Task<Result<PagedResult<ProductDto>>> ListAsync(Actor actor, ProductQuery query, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsRead)) return Errors.Forbidden;
        if (RequestValidation.Validate(query) is { } invalid) return invalid;
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        var products = Visible(db, actor);
        if (actor.Can(Permission.ProductsReadAll) && query.Published is { } published)
            products = products.Where(p => p.Published == published);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim().ToLower();
            products = products.Where(p => p.Name.ToLower().Contains(term) || p.Slug.Contains(term) || (p.Title != null && p.Title.ToLower().Contains(term)));
        }
        products = (query.Sort ?? "name") switch
        {
            "-name" => products.OrderByDescending(p => p.Name).ThenBy(p => p.Id),
            "createdAt" => products.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
            "-createdAt" => products.OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id),
            "updatedAt" => products.OrderBy(p => p.UpdatedAt).ThenBy(p => p.Id),
            "-updatedAt" => products.OrderByDescending(p => p.UpdatedAt).ThenBy(p => p.Id),
            _ => products.OrderBy(p => p.Name).ThenBy(p => p.Id),
        };
        var page = await WithOpenCounts(db, actor, products).ToPageAsync(query, ct);
        var plans = await PlansOfAsync(db, page.Items.Select(r => r.Product.Id).ToList(), ct);
        return new PagedResult<ProductDto>(
            page.Items.Select(r => ToDto(actor, r.Product, plans[r.Product.Id], r.Open)).ToList(), page.Page, page.PageSize, page.Total);
    }

    /// <summary>By id or slug; a draft is not found for those who may not see drafts.</summary>
    public async Task<Result<ProductDto>> GetAsync(Actor actor, string idOrSlug, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsRead)) return Errors.Forbidden;
        var key = (idOrSlug ?? "").Trim();
        // No slug holds a control character (and PostgreSQL could not even compare one): nothing to look for.
        if (key.Length == 0 || TextRules.FirstForbidden(key) is not null) return Errors.NotFound;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var products = Visible(db, actor);
        if (Guid.TryParse(key, out var id)) products = products.Where(p => p.Id == id);
        else
        {
            var slug = key.ToLowerInvariant();
            products = products.Where(p => p.Slug == slug);
        }
        var row = await WithOpenCounts(db, actor, products).FirstOrDefaultAsync(ct);
        if (row is null) return Errors.NotFound;
        var plans = await PlansOfAsync(db, [row.Product.Id], ct);
        return ToDto(actor, row.Product, plans[row.Product.Id], row.Open);
    }

    public async Task<Result<ProductDto>> CreateAsync(Actor actor, CreateProduct request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsManage)) return Errors.Forbidden;
        var plans = request.Plans ?? [];
        var errors = RequestValidation.Validate(request)?.Errors.ToDictionary() ?? [];
        if (request.PublishedContradictsVisibility) errors.TryAdd("visibility", [ProductVisibility.Contradiction]);
        CheckPlans(plans, errors);
        var name = request.Name?.Trim() ?? "";
        var slug = string.IsNullOrWhiteSpace(request.Slug) ? SlugFrom(name) : request.Slug.Trim();
        if (!errors.ContainsKey("name") && !errors.ContainsKey("slug") && slug.Length == 0)
            errors["slug"] = ["No slug can be made from this name: enter one (lowercase letters, digits and hyphens)."];
        CheckUpstreamUrl(request.UpstreamUrl, errors);
        CheckCredential(request.UpstreamCredential, errors);
        if (request.Published && plans.Count == 0) errors["published"] = [NoPlanToPublish];
        if (errors.Count > 0) return new ValidationError(errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Products.AnyAsync(p => p.Slug == slug, ct)) return new DuplicateProductSlug(slug);
        var now = clock.GetUtcNow();
        var product = new ApiProduct
        {
            Name = name,
            Slug = slug,
            Title = Blank(request.Title),
            Description = Blank(request.Description),
            UpstreamUrl = Blank(request.UpstreamUrl),
            Published = request.Published,
            RequiresApproval = request.RequiresApproval,
            UpstreamTimeoutSeconds = request.UpstreamTimeoutSeconds ?? GatewayRules.DefaultTimeoutSeconds,
            MaxRequestBodyBytes = request.MaxRequestBodyBytes ?? GatewayRules.DefaultMaxRequestBodyBytes,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (request.UpstreamCredential is { } credential && request.ClearUpstreamCredential != true)
        {
            product.UpstreamCredentialHeader = credential.Header.Trim();
            product.UpstreamCredentialProtected = credentials.Protect(credential.Value);
        }
        foreach (var (plan, i) in plans.Select((p, i) => (p, i)))
        {
            var entity = new Plan { ProductId = product.Id };
            Apply(entity, plan, i);
            product.Plans.Add(entity);
        }
        db.Products.Add(product);
        db.Audit.Add(AuditEntry.For(actor, AuditActions.ProductCreated, now, "product", product.Id.ToString(), name,
            $"slug: {slug}; {(product.Published ? "published" : "draft")}; plans: {string.Join(", ", product.Plans.Select(p => $"{p.Name} ({p.Type})"))}"));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Two creates raced past the check above; the unique index decided.
            if (await SlugTakenAsync(slug, null, ct)) return new DuplicateProductSlug(slug);
            throw;
        }
        return ToDto(actor, product, product.Plans, 0);
    }

    /// <summary>
    /// Partial update (see <see cref="UpdateProduct"/>). Removing a plan is refused while WAITING or APPROVED
    /// subscriptions use it; its ended (REJECTED, UNSUBSCRIBED) subscriptions and their quota counters go with it.
    /// </summary>
    public async Task<Result<ProductDto>> UpdateAsync(Actor actor, Guid id, UpdateProduct request, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsManage)) return Errors.Forbidden;
        var errors = RequestValidation.Validate(request)?.Errors.ToDictionary() ?? [];
        if (request.PublishedContradictsVisibility) errors.TryAdd("visibility", [ProductVisibility.Contradiction]);
        if (request.Plans is { } requested) CheckPlans(requested, errors);
        CheckUpstreamUrl(request.UpstreamUrl, errors);
        CheckCredential(request.UpstreamCredential, errors);
        if (request.UpstreamCredential is not null && request.ClearUpstreamCredential == true)
            errors.TryAdd("clearUpstreamCredential", ["Send either a new upstream credential or clearUpstreamCredential, not both."]);
        if (request.Name is { } newName && newName.Trim().Length == 0) errors.TryAdd("name", ["Name must be 1 to 200 characters."]);
        if (errors.Count > 0) return new ValidationError(errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var product = await db.Products.AsTracking().Include(p => p.Plans).FirstOrDefaultAsync(p => p.Id == id, ct);
        if (product is null) return Errors.NotFound;

        var changes = new List<string>();
        if (request.Name?.Trim() is { } name && name != product.Name)
        {
            changes.Add($"name '{product.Name}' → '{name}'");
            product.Name = name;
        }
        if (request.Slug?.Trim() is { } slug && slug != product.Slug)
        {
            if (await db.Products.AnyAsync(p => p.Slug == slug && p.Id != id, ct)) return new DuplicateProductSlug(slug);
            changes.Add($"slug '{product.Slug}' → '{slug}'");
            product.Slug = slug;
        }
        if (request.Title is { } title && Blank(title) != product.Title)
        {
            changes.Add("title changed");
            product.Title = Blank(title);
        }
        if (request.Description is { } description && Blank(description) != product.Description)
        {
            changes.Add("description changed");
            product.Description = Blank(description);
        }
        if (request.UpstreamUrl is { } upstream && Blank(upstream) != product.UpstreamUrl)
        {
            changes.Add($"upstream URL → {Blank(upstream) ?? "none"}");
            product.UpstreamUrl = Blank(upstream);
        }
        if (request.UpstreamTimeoutSeconds is { } timeout && timeout != product.UpstreamTimeoutSeconds)
        {
            changes.Add($"upstream timeout {product.UpstreamTimeoutSeconds} s → {timeout} s");
            product.UpstreamTimeoutSeconds = timeout;
        }
        if (request.MaxRequestBodyBytes is { } bodyLimit && bodyLimit != product.MaxRequestBodyBytes)
        {
            changes.Add($"body limit {product.MaxRequestBodyBytes:N0} → {bodyLimit:N0} bytes");
            product.MaxRequestBodyBytes = bodyLimit;
        }
        if (request.UpstreamCredential is { } credential)
        {
            // The audit names the header, never the value.
            changes.Add($"upstream credential {(product.UpstreamCredentialProtected is null ? "set" : "replaced")} ({credential.Header.Trim()})");
            product.UpstreamCredentialHeader = credential.Header.Trim();
            product.UpstreamCredentialProtected = credentials.Protect(credential.Value);
        }
        else if (request.ClearUpstreamCredential == true && product.UpstreamCredentialHeader is not null)
        {
            changes.Add("upstream credential cleared");
            product.UpstreamCredentialHeader = null;
            product.UpstreamCredentialProtected = null;
        }
        if (request.RequiresApproval is { } approval && approval != product.RequiresApproval)
        {
            changes.Add(approval ? "subscriptions need approval" : "subscriptions approved at once");
            product.RequiresApproval = approval;
        }
        if (request.Published is { } published && published != product.Published)
        {
            changes.Add(published ? "published" : "unpublished");
            product.Published = published;
        }

        var removedNames = new Dictionary<Guid, string>();
        if (request.Plans is { } plans)
        {
            var known = product.Plans.ToDictionary(p => p.Id);
            var seen = new HashSet<Guid>();
            foreach (var (plan, i) in plans.Select((p, i) => (p, i)))
                if (plan?.Id is { } planId && (!known.ContainsKey(planId) || !seen.Add(planId)))
                    errors[$"plans[{i}].id"] = [known.ContainsKey(planId) ? "This plan is listed twice." : "This product has no such plan."];
            if (errors.Count > 0) return new ValidationError(errors);

            var removed = product.Plans.Where(p => !seen.Contains(p.Id)).ToList();
            removedNames = removed.ToDictionary(p => p.Id, p => p.Name);
            if (await OpenOnPlansAsync(db, [.. removedNames.Keys], ct) is { } inUse)
                return new PlanHasOpenSubscriptions(removedNames[inUse.PlanId], inUse.Count);

            var planChanges = new List<string>();
            foreach (var (plan, i) in plans.Select((p, i) => (p, i)))
            {
                if (plan.Id is { } planId)
                {
                    var existing = known[planId];
                    var before = Signature(existing);
                    Apply(existing, plan, i);
                    if (Signature(existing) != before) planChanges.Add($"~{existing.Name}");
                }
                else
                {
                    var added = new Plan { ProductId = product.Id };
                    Apply(added, plan, i);
                    product.Plans.Add(added);
                    planChanges.Add($"+{added.Name}");
                }
            }
            foreach (var plan in removed)
            {
                product.Plans.Remove(plan);
                planChanges.Add($"-{plan.Name}");
            }
            if (planChanges.Count > 0) changes.Add("plans: " + string.Join(", ", planChanges));
        }
        if (product.Published && product.Plans.Count == 0)
            return ValidationError.For(request.Plans is { Count: 0 } ? "plans" : "published", NoPlanToPublish);

        if (changes.Count > 0)
        {
            var now = clock.GetUtcNow();
            product.UpdatedAt = now;
            db.Audit.Add(AuditEntry.For(actor, AuditActions.ProductUpdated, now, "product", id.ToString(), product.Name, string.Join("; ", changes)));
            try
            {
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                // The removed plans' ended subscriptions go with them (their quota counters cascade in the database).
                if (removedNames.Count > 0)
                {
                    var removedIds = removedNames.Keys.ToList();
                    await Ended(db).Where(s => removedIds.Contains(s.PlanId)).ExecuteDeleteAsync(ct);
                }
                await db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
            }
            catch (DbUpdateException)
            {
                // A subscribe or another edit raced past the checks above; the indexes and foreign keys decided.
                if (await SlugTakenAsync(product.Slug, id, ct)) return new DuplicateProductSlug(product.Slug);
                await using var check = await dbFactory.CreateDbContextAsync(ct);
                if (await OpenOnPlansAsync(check, [.. removedNames.Keys], ct) is { } raced)
                    return new PlanHasOpenSubscriptions(removedNames[raced.PlanId], raced.Count);
                throw;
            }
        }
        var open = actor.Can(Permission.SubscriptionsReadAll) ? await OpenOf(db, id).CountAsync(ct) : 0;
        return ToDto(actor, product, product.Plans, open);
    }

    /// <summary>Refused (409) while WAITING or APPROVED subscriptions exist; ended ones go with the product.</summary>
    public async Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default)
    {
        if (!actor.Can(Permission.ProductsManage)) return Errors.Forbidden;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var product = await db.Products.AsTracking().FirstOrDefaultAsync(p => p.Id == id, ct);
        if (product is null) return Errors.NotFound;
        var open = await OpenOf(db, id).CountAsync(ct);
        if (open > 0) return new ProductHasOpenSubscriptions(product.Name, open);

        var now = clock.GetUtcNow();
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            // Ended subscriptions first (their quota counters cascade); then the product, whose plans cascade. An open
            // one that raced in stays, and its restricting foreign key refuses the delete.
            var ended = await Ended(db).Where(s => s.ProductId == id).ExecuteDeleteAsync(ct);
            db.Products.Remove(product);
            db.Audit.Add(AuditEntry.For(actor, AuditActions.ProductDeleted, now, "product", id.ToString(), product.Name,
                $"slug: {product.Slug}; {ended} ended subscription(s) removed"));
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Someone subscribed between the check and the delete: the restricting foreign key refused it.
            await using var check = await dbFactory.CreateDbContextAsync(ct);
            var raced = await OpenOf(check, id).CountAsync(ct);
            if (raced > 0) return new ProductHasOpenSubscriptions(product.Name, raced);
            throw;
        }
        return Unit.Value;
    }

    /// <summary>Lowercase ASCII letters and digits separated by single hyphens: "Payments API v2" → "payments-api-v2".</summary>
    public static string SlugFrom(string name)
    {
        var slug = new StringBuilder();
        var gap = false;
        foreach (var c in (name ?? "").Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            var lower = char.ToLowerInvariant(c);
            if (lower is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                if (gap && slug.Length > 0) slug.Append('-');
                slug.Append(lower);
                gap = false;
            }
            else gap = true;
        }
        return slug.Length <= 100 ? slug.ToString() : slug.ToString(0, 100).TrimEnd('-');
    }

    internal static PlanDto ToPlanDto(Plan p) =>
        new(p.Id, p.Name, p.Type, p.RateLimit, p.RateLimitWindow, p.Quota, p.QuotaPeriod, p.PriceText,
            p.Tiers.Select(t => new PlanTierDto(t.UpTo, t.Price ?? "", t.UnitPrice, t.FlatFee)).ToList(),
            p.Currency, p.FlatFee, p.UnitPrice, p.PriceUnit, p.MonthlyMinimum, p.TierMode);

    private const string NoPlanToPublish = "A product needs at least one plan before it can be published.";

    /// <summary>Drafts only for those who may see them.</summary>
    private static IQueryable<ApiProduct> Visible(PortalDbContext db, Actor actor) =>
        actor.Can(Permission.ProductsReadAll) ? db.Products.AsNoTracking() : db.Products.AsNoTracking().Where(p => p.Published);

    private static IQueryable<Subscription> OpenOf(PortalDbContext db, Guid productId) =>
        db.Subscriptions.Where(s => s.ProductId == productId && (s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved));

    private static IQueryable<Subscription> Ended(PortalDbContext db) =>
        db.Subscriptions.Where(s => s.Status == SubscriptionStatus.Rejected || s.Status == SubscriptionStatus.Unsubscribed);

    // Member-init, not a constructor: EF can page through it.
    private sealed class Row
    {
        public required ApiProduct Product { get; init; }
        public required int Open { get; init; }
    }

    /// <summary>The open-subscription count is one SQL aggregate per row, and only for those who see all subscriptions.</summary>
    private static IQueryable<Row> WithOpenCounts(PortalDbContext db, Actor actor, IQueryable<ApiProduct> products) =>
        actor.Can(Permission.SubscriptionsReadAll)
            ? products.Select(p => new Row
            {
                Product = p,
                Open = db.Subscriptions.Count(s => s.ProductId == p.Id && (s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved)),
            })
            : products.Select(p => new Row { Product = p, Open = 0 });

    private static async Task<ILookup<Guid, Plan>> PlansOfAsync(PortalDbContext db, List<Guid> productIds, CancellationToken ct) =>
        (await db.Plans.AsNoTracking().Where(p => productIds.Contains(p.ProductId)).ToListAsync(ct)).ToLookup(p => p.ProductId);

    private sealed record PlanInUse(Guid PlanId, int Count);

    private static async Task<PlanInUse?> OpenOnPlansAsync(PortalDbContext db, List<Guid> planIds, CancellationToken ct)
    {
        if (planIds.Count == 0) return null;
        return await db.Subscriptions
            .Where(s => planIds.Contains(s.PlanId) && (s.Status == SubscriptionStatus.Waiting || s.Status == SubscriptionStatus.Approved))
            .GroupBy(s => s.PlanId)
            .Select(g => new PlanInUse(g.Key, g.Count()))
            .FirstOrDefaultAsync(ct);
    }

    private async Task<bool> SlugTakenAsync(string slug, Guid? except, CancellationToken ct)
    {
        await using var check = await dbFactory.CreateDbContextAsync(ct);
        return await check.Products.AnyAsync(p => p.Slug == slug && p.Id != except, ct);
    }

    /// <summary>Per-plan DataAnnotations (nested lists are not checked by the validator), unique names, enum values, prices and tiers.</summary>
    private static void CheckPlans(List<PlanRequest> plans, Dictionary<string, string[]> errors)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (plan, i) in plans.Select((p, i) => (p, i)))
        {
            var at = $"plans[{i}]";
            if (plan is null)
            {
                errors[at] = ["A plan is missing."];
                continue;
            }
            var name = plan.Name?.Trim() ?? "";
            if (name.Length > 0 && !names.Add(name)) errors.TryAdd($"{at}.name", [$"Another plan of this product is already named '{name}'."]);
            CheckPlan(plan, at, errors);
        }
    }

    /// <summary>One plan's rules, its fields under <paramref name="at"/> (<c>plans[0]</c>); also checks a what-if's proposed plan.</summary>
    internal static void CheckPlan(PlanRequest plan, string at, Dictionary<string, string[]> errors)
    {
        if (!CheckItem(plan, at, "A plan is missing.", errors)) return;
        if (!Enum.IsDefined(plan.Type)) errors[$"{at}.type"] = ["Type is Free, Subscription, Metered or Tiered."];
        if (!Enum.IsDefined(plan.RateLimitWindow)) errors[$"{at}.rateLimitWindow"] = ["The rate limit window is Second or Minute."];
        if (!Enum.IsDefined(plan.QuotaPeriod)) errors[$"{at}.quotaPeriod"] = ["The quota period is Day or Month."];
        CheckPrices(plan, at, errors);
        if (plan.Type != PlanType.Tiered) return;

        var tiers = plan.Tiers ?? [];
        if (tiers.Count == 0) errors[$"{at}.tiers"] = ["A tiered plan needs at least one tier."];
        long? previous = null;
        foreach (var (tier, j) in tiers.Select((t, j) => (t, j)))
        {
            var tierAt = $"{at}.tiers[{j}]";
            if (!CheckItem(tier, tierAt, "A tier is missing.", errors)) continue;
            if (tier.UpTo is null && j < tiers.Count - 1)
                errors.TryAdd($"{tierAt}.upTo", ["Only the last tier may leave the volume empty (\"everything above\")."]);
            else if (tier.UpTo is { } upTo && previous is { } before && upTo <= before)
                errors.TryAdd($"{tierAt}.upTo", [$"Tier volumes must rise: this one must be above {before:N0}."]);
            if (tier.UpTo is not null) previous = tier.UpTo;
        }
    }

    /// <summary>The largest amount a price field takes: far above any real price, and a month of calls at it still fits a decimal.</summary>
    internal const decimal MaxAmount = 1_000_000_000m;

    /// <summary>
    /// Prices by plan type. A fee or minimum is charged as it is, so it has at most the currency's minor digits; a unit
    /// price is multiplied by calls first, so it may go 4 digits finer (USD 0.0001 a call), and never past the 6 the
    /// database keeps. A body with no currency and no number (the older shape) is left unpriced.
    /// </summary>
    private static void CheckPrices(PlanRequest plan, string at, Dictionary<string, string[]> errors)
    {
        string currency = Billing.Currencies.Default;
        if (plan.Currency is { } code)
        {
            currency = code.Trim().ToUpperInvariant();
            if (!Billing.Currencies.IsKnown(currency))
            {
                errors[$"{at}.currency"] = [$"'{code}' is not an ISO 4217 currency code this portal knows (USD, EUR, JPY, …)."];
                currency = Billing.Currencies.Default;
            }
        }
        var feeDigits = Billing.Currencies.Digits(currency);
        var unitDigits = Math.Min(feeDigits + 4, 6);
        if (plan.PriceUnit is { } unit && unit is not (1 or 1000))
            errors[$"{at}.priceUnit"] = ["A unit price is for 1 call or for 1,000 calls (priceUnit 1 or 1000)."];
        if (plan.TierMode is { } mode && !Enum.IsDefined(mode))
            errors[$"{at}.tierMode"] = ["The tier mode is Graduated or Volume."];
        // Only the type's own fields: the others are not kept (a form that switched type may still send them).
        if (plan.Type == PlanType.Subscription) Amount(plan.FlatFee, $"{at}.flatFee", "The monthly fee", feeDigits);
        if (plan.Type == PlanType.Metered)
        {
            Amount(plan.MonthlyMinimum, $"{at}.monthlyMinimum", "The monthly minimum", feeDigits);
            Amount(plan.UnitPrice, $"{at}.unitPrice", "The unit price", unitDigits);
        }
        foreach (var (tier, j) in (plan.Tiers ?? []).Select((t, j) => (t, j)))
        {
            if (tier is null || plan.Type != PlanType.Tiered) continue;
            Amount(tier.UnitPrice, $"{at}.tiers[{j}].unitPrice", "A tier's unit price", unitDigits);
            Amount(tier.FlatFee, $"{at}.tiers[{j}].flatFee", "A tier's flat fee", feeDigits);
        }
        if (plan.IsUnpricedShape) return;
        switch (plan.Type)
        {
            case PlanType.Subscription when plan.FlatFee is null:
                errors.TryAdd($"{at}.flatFee", ["A Subscription plan needs its monthly fee (0 for none)."]);
                break;
            case PlanType.Metered when plan.UnitPrice is null:
                errors.TryAdd($"{at}.unitPrice", ["A Metered plan needs its unit price."]);
                break;
            case PlanType.Tiered:
                foreach (var (tier, j) in (plan.Tiers ?? []).Select((t, j) => (t, j)))
                    if (tier is { UnitPrice: null })
                        errors.TryAdd($"{at}.tiers[{j}].unitPrice", ["Every tier needs its unit price (0 for free calls)."]);
                break;
        }

        void Amount(decimal? amount, string field, string what, int digits)
        {
            if (amount is not { } value) return;
            if (value < 0) errors.TryAdd(field, [$"{what} cannot be negative."]);
            else if (value > MaxAmount) errors.TryAdd(field, [$"{what} is at most {MaxAmount:N0}."]);
            else if (Math.Round(value, digits) != value)
                errors.TryAdd(field, [digits == 0 ? $"{what} is a whole number of {currency}." : $"{what} has at most {digits} decimal places in {currency}."]);
        }
    }

    /// <summary>An item of a nested list: its own DataAnnotations, under field names such as <c>plans[0].name</c>. False when it is null.</summary>
    private static bool CheckItem(object? item, string at, string missing, Dictionary<string, string[]> errors)
    {
        if (item is null)
        {
            errors[at] = [missing];
            return false;
        }
        foreach (var (field, messages) in RequestValidation.Validate(item)?.Errors ?? new Dictionary<string, string[]>())
            errors[$"{at}.{field}"] = messages;
        return true;
    }

    private void CheckUpstreamUrl(string? url, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(url) || errors.ContainsKey("upstreamUrl")) return;
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            errors["upstreamUrl"] = ["The upstream URL must be an absolute http or https address."];
        else if (!string.IsNullOrEmpty(uri.UserInfo))
            errors["upstreamUrl"] = ["The upstream URL may not hold a user name or password: set an upstream credential instead."];
        // A literal address is judged now; a name is judged by the gateway each time it connects.
        else if (!options.Value.Gateway.AllowLinkLocalUpstreams && System.Net.IPAddress.TryParse(uri.IdnHost, out var address) && GatewayRules.IsRefusedAddress(address))
            errors["upstreamUrl"] = [GatewayRules.RefusedAddressMessage];
    }

    private static void CheckCredential(UpstreamCredentialRequest? credential, Dictionary<string, string[]> errors)
    {
        if (credential is null) return;
        foreach (var (field, messages) in RequestValidation.Validate(credential)?.Errors ?? new Dictionary<string, string[]>())
            errors[$"upstreamCredential.{field}"] = messages;
        if (!errors.ContainsKey("upstreamCredential.header") && !GatewayRules.IsAcceptableCredentialHeader(credential.Header.Trim()))
            errors["upstreamCredential.header"] = ["A header name is letters, digits and -_. only, and not one the gateway sets itself (X-Api-Key, Cookie, X-Portal-*, X-Forwarded-*, Host)."];
        if (!errors.ContainsKey("upstreamCredential.value") && credential.Value.Any(c => c is '\r' or '\n' or '\0'))
            errors["upstreamCredential.value"] = ["The value may not hold line breaks."];
    }

    /// <summary>
    /// Other plan types keep no tiers (a form that switched away from Tiered may still send them), and each type keeps
    /// only its own price fields. A body in the older, unpriced shape leaves an existing plan's numbers as they are.
    /// </summary>
    internal static void Apply(Plan plan, PlanRequest request, int order)
    {
        var keepPrices = request.IsUnpricedShape;
        var previousTiers = plan.Tiers;
        var tiered = request.Type == PlanType.Tiered;
        plan.Name = request.Name.Trim();
        plan.Type = request.Type;
        plan.RateLimit = request.RateLimit;
        plan.RateLimitWindow = request.RateLimitWindow;
        plan.Quota = request.Quota;
        plan.QuotaPeriod = request.QuotaPeriod;
        plan.PriceText = Blank(request.PriceText);
        plan.Tiers = tiered
            ? request.Tiers.Select(t => new PlanTier
            {
                UpTo = t.UpTo,
                UnitPrice = keepPrices ? previousTiers.FirstOrDefault(p => p.UpTo == t.UpTo)?.UnitPrice : t.UnitPrice,
                FlatFee = keepPrices ? previousTiers.FirstOrDefault(p => p.UpTo == t.UpTo)?.FlatFee : t.FlatFee,
                Price = Blank(t.Note) ?? Blank(t.Price),
            }).ToList()
            : [];
        plan.Order = order;
        if (keepPrices) return;
        plan.Currency = request.Currency?.Trim().ToUpperInvariant() ?? Billing.Currencies.Default;
        plan.FlatFee = request.Type == PlanType.Subscription ? request.FlatFee : null;
        plan.UnitPrice = request.Type == PlanType.Metered ? request.UnitPrice : null;
        plan.MonthlyMinimum = request.Type == PlanType.Metered ? request.MonthlyMinimum : null;
        plan.PriceUnit = request.Type is PlanType.Metered or PlanType.Tiered ? request.PriceUnit ?? 1 : 1;
        plan.TierMode = tiered ? request.TierMode ?? TierMode.Graduated : TierMode.Graduated;
    }

    private static string Signature(Plan p) =>
        $"{p.Name}|{p.Type}|{p.RateLimit}/{p.RateLimitWindow}|{p.Quota}/{p.QuotaPeriod}|{p.PriceText}|{p.Currency} {p.FlatFee} {p.UnitPrice}/{p.PriceUnit} min {p.MonthlyMinimum} {p.TierMode}" +
        $"|{string.Join(";", p.Tiers.Select(t => $"{t.UpTo}:{t.UnitPrice}+{t.FlatFee}:{t.Price}"))}|{p.Order}";

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <summary>The upstream address is internal: only those who manage or see every product (drafts too) get it.</summary>
    private static ProductDto ToDto(Actor actor, ApiProduct p, IEnumerable<Plan> plans, int open) => new(
        p.Id, p.Name, p.Slug, p.Title, p.Description, actor.Can(Permission.ProductsReadAll) ? p.UpstreamUrl : null, p.Published, p.RequiresApproval, p.CreatedAt, p.UpdatedAt,
        plans.OrderBy(x => x.Order).ThenBy(x => x.Name).Select(ToPlanDto).ToList(), open,
        p.UpstreamTimeoutSeconds, p.MaxRequestBodyBytes,
        actor.Can(Permission.ProductsReadAll) ? new UpstreamCredentialDto(p.UpstreamCredentialHeader, p.UpstreamCredentialProtected is not null) : null);
}
