using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Core.Features.Webhooks;
using Portal.Core.Features.Verification;

namespace Portal.Core.Features.Demo;

/// <summary>
/// Fills a fresh database with a believable organisation so a new user sees a living portal.
/// Every demo user gets the same freshly generated password, printed once by the caller.
/// </summary>
public sealed class DemoData(
    IDbContextFactory<PortalDbContext> dbFactory,
    UserService users,
    OrganisationService organisation,
    ApiKeyService apiKeys,
    AccountService accounts,
    ApplicationService applications,
    ProductService products,
    SubscriptionService subscriptions,
    WebhookService webhooks,
    TimeProvider clock)
{
    public const string DemoDomain = "demo.portal.test";

    private static readonly (string First, string Last)[] People =
    [
        ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson"), ("Linus", "Torvalds"),
        ("Margaret", "Hamilton"), ("Dennis", "Ritchie"), ("Barbara", "Liskov"), ("Ken", "Thompson"), ("Frances", "Allen"),
        ("Donald", "Knuth"), ("Radia", "Perlman"), ("Tim", "Berners-Lee"), ("Hedy", "Lamarr"), ("John", "McCarthy"),
        ("Annie", "Easley"), ("Edsger", "Dijkstra"), ("Karen", "Spärck Jones"), ("Bjarne", "Stroustrup"), ("Adele", "Goldberg"),
        ("Guido", "van Rossum"), ("Shafi", "Goldwasser"), ("Niklaus", "Wirth"), ("Sophie", "Wilson"), ("Anders", "Hejlsberg"),
        ("Jean", "Sammet"), ("Leslie", "Lamport"), ("Mary", "Kenneth Keller"), ("Ward", "Cunningham"), ("Evelyn", "Boyd Granville"),
        ("Yukihiro", "Matsumoto"), ("Lynn", "Conway"), ("James", "Gosling"), ("Joan", "Clarke"), ("Rob", "Pike"),
        ("Carol", "Shaw"), ("Brian", "Kernighan"), ("Elizabeth", "Feinler"), ("Whitfield", "Diffie"), ("Roberta", "Williams"),
    ];

    public sealed record Seeded(int Users, string Password);

    public async Task<Result<Seeded>> SeedAsync(CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            if (await db.Users.AnyAsync(u => u.Email!.EndsWith("@" + DemoDomain), ct))
                return new ConflictError("Demo data is already loaded.");
        }
        var started = clock.GetUtcNow();

        await organisation.UpdateAsync(Actor.System, new UpdateOrganisation
        {
            Name = "Acme Payments",
            ContactEmail = "api-team@acme.example",
            Website = "https://acme.example",
            LogoUrl = "https://acme.example/logo.png",
        }, ct);

        var password = DatabaseInitializer.GeneratePassword();
        var rolesFor = new Func<int, string>(i => i switch
        {
            < 2 => Roles.SuperAdmin,
            < 6 => Roles.Admin,
            < 10 => Roles.ReadOnly,
            _ => Roles.Developer,
        });
        var created = new List<Guid>();
        for (var i = 0; i < People.Length; i++)
        {
            var (first, last) = People[i];
            var email = $"{first}.{last.Replace(" ", "").Replace("ä", "a")}@{DemoDomain}".ToLowerInvariant();
            var result = await users.CreateAsync(Actor.System,
                new CreateUser { Email = email, DisplayName = $"{first} {last}", Password = password, Roles = [rolesFor(i)] }, ct);
            if (result.IsSuccess) created.Add(result.Value.Id);
        }

        await SeedApiKeysAsync(created, ct);
        await SeedApplicationsAsync(created, ct);
        await SeedProductsAsync(created, ct);
        await SeedWebhooksAsync(ct);
        await SeedUsageAsync(created, ct);

        // A lived-in history: most people have signed in at some point, a few are inactive.
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var now = clock.GetUtcNow();
            var random = new Random(42);
            var seeded = await db.Users.Where(u => created.Contains(u.Id)).ToListAsync(ct);
            foreach (var (user, i) in seeded.Select((u, i) => (u, i)))
            {
                user.CreatedAt = now.AddDays(-random.Next(30, 400));
                user.LastLoginAt = i % 7 == 6 ? null : now.AddMinutes(-random.Next(5, 60 * 24 * 45));
                if (i % 11 == 10) user.Status = UserStatus.Inactive;
            }
            await db.SaveChangesAsync(ct);

            // The seeding's own changes went through the services, so they are in the webhook outbox. They are scenery,
            // not news: the demo endpoints (backdated above, so "created" before these events) would otherwise get a
            // flood of them on the first start. Events raised before the seeding began are left alone.
            await db.WebhookOutbox.Where(e => e.OccurredAt >= started).ExecuteDeleteAsync(ct);
        }
        return new Seeded(created.Count, password);
    }

    private static readonly string[] AppNames =
    [
        "Mobile iOS App", "Android App", "Web Shop", "Partner Portal", "Invoice Sync", "Fraud Monitor",
        "Checkout Widget", "Analytics Export", "Loyalty Program", "Support Bot",
    ];

    private static readonly string[] TeamNames = ["Mobile Team", "Data Platform", "Partner Integrations"];

    /// <summary>
    /// Developers' personal accounts exist already (made with each developer). Adds a few team accounts, then
    /// applications through the service (each with its first key), a second key for some and a revoked one for others.
    /// </summary>
    private async Task SeedApplicationsAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        List<Guid> developers;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            developers = await db.AccountMembers.Where(m => userIds.Contains(m.UserId)).Select(m => m.UserId).Distinct().ToListAsync(ct);
        var admin = Actor.System;
        var teams = new List<AccountDto>();
        foreach (var (name, t) in TeamNames.Select((n, i) => (n, i)))
        {
            var members = developers.Where((_, i) => i % TeamNames.Length == t).Take(4).ToList();
            var team = await accounts.CreateAsync(admin, new CreateAccount { Name = name, Kind = AccountKind.Team, MemberIds = members }, ct);
            if (team.IsSuccess) teams.Add(team.Value);
        }

        var apps = new List<ApplicationCreated>();
        // Every third developer has not created anything yet: the empty state is part of the demo.
        foreach (var (userId, d) in developers.Select((id, i) => (id, i)).Where(x => x.i % 3 != 2))
        {
            var developer = (await users.GetAsync(admin, userId, ct)).Value;
            var actor = new Actor(userId, developer.Email, developer.Roles);
            var personal = (await accounts.ListMineAsync(actor, ct)).Value.First(a => a.Kind == AccountKind.Person);
            for (var a = 0; a < 1 + d % 3; a++)
            {
                var name = AppNames[(d + a * 3) % AppNames.Length];
                var result = await applications.CreateAsync(actor,
                    new CreateApplication { Name = name, Description = $"{name} by {developer.DisplayName}", AccountId = personal.Id }, ct);
                if (result.IsSuccess) apps.Add(result.Value);
            }
        }
        foreach (var (team, t) in teams.Select((x, i) => (x, i)))
            for (var a = 0; a < 2 + t; a++)
            {
                var name = AppNames[(t * 4 + a) % AppNames.Length];
                var result = await applications.CreateAsync(admin,
                    new CreateApplication { Name = name, Description = $"{name}, run by the {team.Name}", AccountId = team.Id }, ct);
                if (result.IsSuccess) apps.Add(result.Value);
            }

        // Rotation in progress (seed 001, Scenario 3): a second key for some, the first one revoked for a few of those.
        foreach (var (app, i) in apps.Select((x, i) => (x, i)))
        {
            if (i % 3 != 0) continue;
            await applications.GenerateKeyAsync(admin, app.Application.Id, new GenerateApplicationKey(), ct);
            if (i % 2 == 0) await applications.RevokeKeyAsync(admin, app.Application.Id, app.Key.Id, ct);
        }

        await using var write = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var random = new Random(11);
        var ids = apps.Select(a => a.Application.Id).ToList();
        var backdated = await write.Applications.AsTracking().Where(a => ids.Contains(a.Id)).ToListAsync(ct);
        foreach (var app in backdated)
            app.CreatedAt = now.AddDays(-random.Next(10, 300)).AddSeconds(-random.Next(86_400));
        await BackdateApplicationKeysAsync(write, backdated, now, ct);
        await write.SaveChangesAsync(ct);
    }

    /// <summary>
    /// An application's keys follow it in time: the first was issued with the application, a rotation's second key
    /// within the last three weeks (so the usage overview's "keys issued" differs between 24 hours, 7 and 30 days), and
    /// the first key, where revoked, a few hours after its successor. Otherwise every application key would carry the
    /// seeding's own time, issued "today", older than nothing.
    /// </summary>
    private static async Task BackdateApplicationKeysAsync(PortalDbContext db, IReadOnlyList<Application> apps, DateTimeOffset now, CancellationToken ct)
    {
        var random = new Random(13);
        var ids = apps.Select(a => a.Id).ToList();
        var keys = (await db.ApiKeys.AsTracking().Where(k => k.ApplicationId != null && ids.Contains(k.ApplicationId.Value)).ToListAsync(ct))
            .ToLookup(k => k.ApplicationId!.Value);
        foreach (var app in apps)
        {
            // Issued in this order by the seeding, moments apart.
            var own = keys[app.Id].OrderBy(k => k.CreatedAt).ToList();
            if (own.Count == 0) continue;
            own[0].CreatedAt = app.CreatedAt;
            var previous = own[0];
            foreach (var key in own.Skip(1))
            {
                var age = (now - app.CreatedAt).TotalHours;
                key.CreatedAt = now.AddHours(-random.Next(1, (int)Math.Min(age, 21 * 24)));
                if (previous.RevokedAt is not null) previous.RevokedAt = Min(key.CreatedAt.AddHours(random.Next(1, 48)), now);
                previous = key;
            }
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static PlanRequest DemoPlan(string name, PlanType type, int? rateLimit, RateLimitWindow window, long? quota, QuotaPeriod period,
        string? note = null, string currency = "USD", decimal? fee = null, decimal? unitPrice = null, int priceUnit = 1, decimal? minimum = null,
        params (long? UpTo, decimal UnitPrice, string? Note)[] tiers) => new()
    {
        Name = name, Type = type, RateLimit = rateLimit, RateLimitWindow = window, Quota = quota, QuotaPeriod = period, PriceText = note,
        Currency = currency, FlatFee = fee, UnitPrice = unitPrice, PriceUnit = priceUnit, MonthlyMinimum = minimum, TierMode = TierMode.Graduated,
        Tiers = [.. tiers.Select(t => new PlanTierRequest { UpTo = t.UpTo, UnitPrice = t.UnitPrice, Note = t.Note })],
    };

    private static IEnumerable<CreateProduct> DemoProducts() =>
    [
        new()
        {
            Name = "Payments API", Slug = "payments", Title = "Take card and wallet payments, refunds and payouts",
            Description = "Create charges, refund them, and pay out to connected accounts. Idempotent requests and webhooks for every state change.",
            UpstreamUrl = "https://payments.internal.acme.example/v2", Published = true, RequiresApproval = true,
            Plans =
            [
                DemoPlan("Sandbox", PlanType.Free, 5, RateLimitWindow.Second, 1_000, QuotaPeriod.Day),
                DemoPlan("Business", PlanType.Subscription, 50, RateLimitWindow.Second, 1_000_000, QuotaPeriod.Month, "Cancel any time", fee: 249m),
                DemoPlan("Pay as you go", PlanType.Metered, 100, RateLimitWindow.Second, null, QuotaPeriod.Month, "Invoiced monthly",
                    unitPrice: 2m, priceUnit: 1000, minimum: 10m),
            ],
        },
        new()
        {
            Name = "Maps API", Slug = "maps", Title = "Geocoding, routes and distance matrices",
            Description = "Turn addresses into coordinates and back, plan routes, and compute travel times between many points at once.",
            UpstreamUrl = "https://maps.internal.acme.example", Published = true, RequiresApproval = false,
            Plans =
            [
                DemoPlan("Starter", PlanType.Free, 60, RateLimitWindow.Minute, 500, QuotaPeriod.Day),
                DemoPlan("Volume", PlanType.Tiered, 20, RateLimitWindow.Second, null, QuotaPeriod.Month, "Volume pricing", priceUnit: 1000,
                    tiers: [(100_000, 5m, null), (1_000_000, 3m, null), (null, 1m, "Talk to us above 10 million")]),
            ],
        },
        new()
        {
            Name = "FX Rates API", Slug = "fx-rates", Title = "Live and historical exchange rates for 170 currencies",
            Description = "Mid-market rates refreshed every minute, daily history back to 1999, and conversion in one call.",
            UpstreamUrl = "https://fx.internal.acme.example/api", Published = true, RequiresApproval = true,
            Plans =
            [
                DemoPlan("Hobby", PlanType.Free, 1, RateLimitWindow.Second, 100, QuotaPeriod.Day),
                DemoPlan("Pro", PlanType.Subscription, 20, RateLimitWindow.Second, 500_000, QuotaPeriod.Month, "Billed in euros", currency: "EUR", fee: 45m),
            ],
        },
        new()
        {
            Name = "Fraud Signals API", Slug = "fraud-signals", Title = "Risk scores for payments and sign-ups (coming soon)",
            Description = "A draft: admins see it, developers will once it is published.",
            UpstreamUrl = "https://fraud.internal.acme.example", Published = false, RequiresApproval = true,
            Plans = [DemoPlan("Early access", PlanType.Metered, 10, RateLimitWindow.Second, 50_000, QuotaPeriod.Month, "One call per score", unitPrice: 0.01m)],
        },
    ];

    private static readonly string[] RejectionReasons =
    [
        "Please tell us what you will use the Payments API for (reply to api-team@acme.example).",
        "The Business plan needs a signed contract first; choose Sandbox in the meantime.",
    ];

    /// <summary>
    /// Products with every plan type (one a draft, one needing no approval), then registrations of the demo applications
    /// in every status through the services, acting as a member of each application's account and as a demo admin.
    /// </summary>
    private async Task SeedProductsAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        var demo = DemoProducts().ToList();
        var created = new List<ProductDto>();
        foreach (var product in demo)
            if (await products.CreateAsync(Actor.System, product, ct) is { IsSuccess: true } result) created.Add(result.Value);
        // All or nothing: a product that could not be made (its slug already taken) would shift the ones below.
        if (created.Count < demo.Count) return;
        var (payments, maps, fx) = (created[0], created[1], created[2]);

        List<(Guid AppId, Guid MemberId)> apps;
        Guid? adminId;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // The demo users' applications only: a database with real accounts keeps its applications untouched.
            apps = (await db.Applications
                    .OrderBy(a => a.Name).ThenBy(a => a.Id)
                    .Select(a => new
                    {
                        a.Id,
                        Member = db.AccountMembers.Where(m => m.AccountId == a.AccountId && userIds.Contains(m.UserId))
                            .Select(m => (Guid?)m.UserId).FirstOrDefault(),
                    })
                    .ToListAsync(ct))
                .Where(a => a.Member is not null).Select(a => (a.Id, a.Member!.Value)).ToList();
            adminId = await (from ur in db.UserRoles
                             join r in db.Roles on ur.RoleId equals r.Id
                             where r.Name == Roles.Admin && userIds.Contains(ur.UserId)
                             select (Guid?)ur.UserId).FirstOrDefaultAsync(ct);
        }
        var admin = await ActorForAsync(adminId, ct) ?? Actor.System;

        var subscribed = new List<Guid>();
        foreach (var ((appId, memberId), i) in apps.Select((a, i) => (a, i)))
        {
            if (await ActorForAsync(memberId, ct) is not { } developer) continue;
            async Task<SubscriptionDto?> Subscribe(ProductDto product, int plan)
            {
                var result = await subscriptions.CreateAsync(developer,
                    new CreateSubscription { ApplicationId = appId, ProductId = product.Id, PlanId = product.Plans[plan % product.Plans.Count].Id }, ct);
                if (result.IsSuccess) subscribed.Add(result.Value.Id);
                return result.IsSuccess ? result.Value : null;
            }

            // Payments needs approval: every status across the applications, a rejection with a reason, a reapplication.
            if (await Subscribe(payments, i) is { } registration)
                switch (i % 5)
                {
                    case 1 or 2:
                        await subscriptions.ApproveAsync(admin, registration.Id, new DecideSubscription(), ct);
                        break;
                    case 3:
                        await subscriptions.RejectAsync(admin, registration.Id, new DecideSubscription { Reason = RejectionReasons[i % RejectionReasons.Length] }, ct);
                        if (i % 2 == 1) await Subscribe(payments, 0);
                        break;
                    case 4:
                        await subscriptions.ApproveAsync(admin, registration.Id, new DecideSubscription(), ct);
                        await subscriptions.UnsubscribeAsync(developer, registration.Id, ct);
                        break;
                }
            // Maps needs no approval: approved at once.
            if (i % 3 == 0) await Subscribe(maps, i / 3);
            if (i % 4 == 2 && await Subscribe(fx, i) is { } fxRegistration && i % 8 == 2)
                await subscriptions.ApproveAsync(admin, fxRegistration.Id, new DecideSubscription(), ct);
        }

        // A retired application: removed after it used two products, its registrations ended with it and stay as
        // history (the Subscriptions page marks them deleted).
        if (apps.Count > 0 && await ActorForAsync(apps[0].MemberId, ct) is { } owner
            && await applications.GetAsync(owner, apps[0].AppId, ct) is { IsSuccess: true } sibling
            && await applications.CreateAsync(owner, new CreateApplication
            {
                Name = "Legacy Checkout", Description = "The old checkout, replaced by the Checkout Widget.", AccountId = sibling.Value.AccountId,
            }, ct) is { IsSuccess: true } legacy)
        {
            var legacyId = legacy.Value.Application.Id;
            foreach (var product in new[] { payments, maps })
            {
                var registration = await subscriptions.CreateAsync(owner,
                    new CreateSubscription { ApplicationId = legacyId, ProductId = product.Id, PlanId = product.Plans[0].Id }, ct);
                if (!registration.IsSuccess) continue;
                subscribed.Add(registration.Value.Id);
                if (registration.Value.Status == SubscriptionStatus.Waiting)
                    await subscriptions.ApproveAsync(admin, registration.Value.Id, new DecideSubscription(), ct);
            }
            await applications.DeleteAsync(owner, legacyId, ct);
        }

        // A believable history: products months old, registrations spread over the last weeks in the order they were
        // made (a reapplication after its rejection), decided hours later unless approved at once, ended days later.
        await using var write = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var random = new Random(5);
        var createdIds = created.Select(p => p.Id).ToList();
        foreach (var product in await write.Products.AsTracking().Where(p => createdIds.Contains(p.Id)).ToListAsync(ct))
            product.CreatedAt = product.UpdatedAt = now.AddDays(-random.Next(60, 200));
        var rows = (await write.Subscriptions.AsTracking().Where(s => subscribed.Contains(s.Id)).ToListAsync(ct)).ToDictionary(s => s.Id);
        var step = TimeSpan.FromDays(35) / Math.Max(subscribed.Count, 1);
        var at = now.AddDays(-40);
        foreach (var sub in subscribed.Select(id => rows[id]))
        {
            at += step * (0.5 + random.NextDouble() / 2);
            var instant = sub.DecidedAt == sub.CreatedAt;
            sub.CreatedAt = at;
            if (sub.DecidedAt is not null) sub.DecidedAt = instant ? at : at.AddHours(random.Next(1, 30));
            if (sub.EndedAt is not null) sub.EndedAt = (sub.DecidedAt ?? at).AddDays(random.Next(1, 4));
        }
        await write.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Two endpoints on a domain that never resolves (<c>.test</c>), and a delivery log in every state written directly:
    /// seeding sends no HTTP. The pending ones are tried by the running dispatcher and fail like any unreachable receiver.
    /// </summary>
    private async Task SeedWebhooksAsync(CancellationToken ct)
    {
        var crm = await webhooks.CreateAsync(Actor.System, new CreateWebhook
        {
            Url = "https://hooks.example.test/acme-crm/portal-events",
            Description = "CRM: onboards partners when their registrations are approved",
            EventTypes = ["application.created", "application.deleted", "subscription.created", "subscription.approved", "subscription.rejected", "subscription.unsubscribed"],
        }, ct);
        var alerts = await webhooks.CreateAsync(Actor.System, new CreateWebhook
        {
            Url = "https://hooks.example.test/security-alerts",
            Description = "Security team's alert channel (paused while they move to a new tool)",
            EventTypes = ["api_key.revoked", "api_key.deleted", "user.deleted"],
            Enabled = false,
        }, ct);
        if (!crm.IsSuccess || !alerts.IsSuccess) return;

        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var (endpoint, ago) in new[] { (crm.Value.Id, TimeSpan.FromDays(12)), (alerts.Value.Id, TimeSpan.FromDays(40)) })
        {
            var row = await db.WebhookEndpoints.SingleAsync(e => e.Id == endpoint, ct);
            row.CreatedAt = row.UpdatedAt = now - ago;
        }
        var history = new (Guid Endpoint, string Type, TimeSpan Ago, int[] Codes, WebhookDeliveryStatus Status)[]
        {
            (crm.Value.Id, "subscription.created", TimeSpan.FromDays(3), [200], WebhookDeliveryStatus.Succeeded),
            (crm.Value.Id, "subscription.approved", TimeSpan.FromDays(2), [502, 200], WebhookDeliveryStatus.Succeeded),
            (crm.Value.Id, "application.created", TimeSpan.FromHours(20), [500, 500, 500, 500, 500, 500], WebhookDeliveryStatus.Failed),
            (crm.Value.Id, "subscription.rejected", TimeSpan.FromHours(5), [200], WebhookDeliveryStatus.Succeeded),
            (crm.Value.Id, "subscription.created", TimeSpan.FromMinutes(40), [503, 503], WebhookDeliveryStatus.Pending),
            (crm.Value.Id, WebhookEventTypes.Test, TimeSpan.FromMinutes(10), [204], WebhookDeliveryStatus.Succeeded),
            (alerts.Value.Id, "api_key.revoked", TimeSpan.FromDays(30), [200], WebhookDeliveryStatus.Succeeded),
        };
        foreach (var (endpoint, type, ago, codes, status) in history)
        {
            var at = now - ago;
            var eventId = Guid.CreateVersion7(at);
            var data = new System.Text.Json.Nodes.JsonObject
            {
                ["object"] = type.Split('.')[0],
                ["id"] = Guid.CreateVersion7(at).ToString(),
                ["name"] = "Web Shop → Payments API",
                ["actor"] = new System.Text.Json.Nodes.JsonObject { ["email"] = $"ada.lovelace@{DemoDomain}" },
            }.ToJsonString();
            var delivery = WebhookDispatcher.NewDelivery(endpoint, eventId, type, WebhookOutbox.Body(eventId, type, at, data), at);
            var attemptAt = at;
            for (var i = 0; i < codes.Length; i++)
            {
                delivery.AttemptLog.Add(new WebhookAttempt
                {
                    At = attemptAt, StatusCode = codes[i], DurationMs = 80 + 37 * i,
                    ResponseSnippet = codes[i] < 300 ? "{\"received\":true}" : "upstream unavailable",
                });
                if (i < WebhookDispatcher.RetrySchedule.Count) attemptAt += WebhookDispatcher.RetrySchedule[i];
            }
            delivery.Attempts = codes.Length;
            delivery.LastStatusCode = codes[^1];
            delivery.Status = status;
            delivery.DeliveredAt = status == WebhookDeliveryStatus.Succeeded ? delivery.AttemptLog[^1].At : null;
            delivery.NextAttemptAt = status == WebhookDeliveryStatus.Pending ? attemptAt : null;
            db.WebhookDeliveries.Add(delivery);
        }
        await db.SaveChangesAsync(ct);
    }

    private async Task<Actor?> ActorForAsync(Guid? userId, CancellationToken ct)
    {
        if (userId is not { } id || await users.GetAsync(Actor.System, id, ct) is not { IsSuccess: true } found) return null;
        return new Actor(found.Value.Id, found.Value.Email, found.Value.Roles);
    }

    private static readonly string[] KeyNames = ["ci-pipeline", "reporting", "local-dev", "billing-sync", "monitoring"];

    /// <summary>
    /// Keys in every state (active, expiring, expired, revoked, in a regeneration grace period) through the service,
    /// then 30 days of hourly usage inserted directly in bulk: going through the usage queue would be needlessly slow.
    /// </summary>
    private async Task SeedApiKeysAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        var random = new Random(7);
        var now = clock.GetUtcNow();
        var issued = new List<(ApiKeyDto Key, int Index)>();
        foreach (var (userId, u) in userIds.Take(24).Select((id, i) => (id, i)))
        {
            var user = (await users.GetAsync(Actor.System, userId, ct)).Value;
            var allowed = ApiKeyService.ScopesAllowedFor(user.Roles);
            for (var k = 0; k < 1 + u % 3; k++)
            {
                var scopes = allowed.Take(1 + random.Next(allowed.Count)).ToList();
                var result = await apiKeys.CreateAsync(Actor.System, new CreateApiKey
                {
                    Name = KeyNames[(u + k) % KeyNames.Length],
                    Description = $"{KeyNames[(u + k) % KeyNames.Length].Replace('-', ' ')} for {user.DisplayName}",
                    Scopes = scopes,
                    ExpiresAt = (u + k) % 4 == 0 ? null : now.AddDays(random.Next(5, 365)),
                    OwnerId = userId,
                }, ct);
                if (result.IsSuccess) issued.Add((result.Value, issued.Count));
            }
        }
        foreach (var (key, i) in issued)
        {
            if (i % 7 == 3) await apiKeys.RevokeAsync(Actor.System, key.Id, ct);
            else if (i % 9 == 5) await apiKeys.RegenerateAsync(Actor.System, key.Id, new RegenerateApiKey { GracePeriodMinutes = 24 * 60 }, ct);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        var ids = issued.Select(k => k.Key.Id).ToList();
        var keys = await db.ApiKeys.AsTracking().Where(k => ids.Contains(k.Id)).ToListAsync(ct);
        var thisHour = UsageWriter.HourOf(now);
        var tallies = new List<UsageTally>();
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            key.CreatedAt = now.AddDays(-random.Next(31, 200));
            // Every fifth key ran out last week.
            if (i % 5 == 2 && key.RevokedAt is null) key.ExpiresAt = now.AddDays(-random.Next(1, 7));
            if (key.RevokedAt is not null) key.RevokedAt = now.AddDays(-random.Next(1, 20));
            var stopsAt = key.RevokedAt ?? (key.ExpiresAt < now ? key.ExpiresAt : now);
            var busy = random.Next(5, 120);
            DateTimeOffset? lastUsed = null;
            for (var hour = thisHour.AddDays(-30); hour <= thisHour && hour < stopsAt; hour = hour.AddHours(1))
            {
                // Office hours are busier; some hours are quiet.
                var load = hour.Hour is >= 8 and <= 18 ? busy : busy / 6;
                var count = random.Next(0, load + 1);
                if (count == 0) continue;
                tallies.Add(new UsageTally(hour, key.Id, null, null, null, count, random.Next(0, count / 20 + 1)));
                lastUsed = hour.AddMinutes(random.Next(60));
            }
            key.LastUsedAt = lastUsed > now ? now : lastUsed;
            db.Entry(key).State = EntityState.Modified;
        }
        await db.SaveChangesAsync(ct);
        // Into every rollup the writer keeps, as if these calls had been made.
        await UsageRollupWriter.AddAsync(db, tallies, ct);
    }

    private static readonly string[] DemoRoutes =
        ["/api/v1/me", "/api/v1/users", "/api/v1/api-keys", "/api/v1/applications", "/api/v1/applications/{id:guid}", "/api/v1/products",
         "/api/v1/subscriptions", "/api/v1/audit", "/api/v1/usage/summary", "/api/v1/usage/requests"];

    private static readonly int[] DemoErrors = [400, 403, 404, 404, 409, 429, 500];

    /// <summary>
    /// What the Usage pages show: 30 days of key verifications by the demo applications' keys (valid for approved
    /// registrations, now and then rate-limited or over quota; not subscribed, revoked or unknown otherwise) as raw
    /// events with their rollups, and the last day of the personal keys' calls (already in the rollups) as raw
    /// events for the request log. Inserted directly in bulk, like the keys' usage.
    /// </summary>
    private async Task SeedUsageAsync(IReadOnlyList<Guid> userIds, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var thisHour = UsageWriter.HourOf(now);
        var random = new Random(3);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.ChangeTracker.AutoDetectChangesEnabled = false;

        var demoAccounts = db.AccountMembers.Where(m => userIds.Contains(m.UserId)).Select(m => m.AccountId);
        var appKeys = await (from k in db.ApiKeys.AsTracking()
                             join a in db.Applications on k.ApplicationId equals a.Id
                             where demoAccounts.Contains(a.AccountId)
                             select k).ToListAsync(ct);
        var approved = (await db.Subscriptions
                .Where(s => s.ApplicationId != null && s.Status == SubscriptionStatus.Approved && demoAccounts.Contains(s.AccountId))
                .Select(s => new { ApplicationId = s.ApplicationId!.Value, s.ProductId, s.PlanId }).ToListAsync(ct))
            .ToLookup(s => s.ApplicationId);
        var published = await db.Products.Where(p => p.Published && (p.Slug == "payments" || p.Slug == "maps" || p.Slug == "fx-rates"))
            .Select(p => p.Id).ToListAsync(ct);
        if (appKeys.Count == 0 || published.Count == 0) return;

        var counted = new List<UsageRecord>();
        void Add(UsageEvent e, bool rollup)
        {
            db.UsageEvents.Add(e);
            if (rollup)
                counted.Add(new UsageRecord(e.At, e.KeyId, e.OwnerUserId, e.Method, e.Route, e.Status, e.LatencyMs, e.ApplicationId, e.ProductId, e.PlanId, e.Outcome));
        }
        UsageEvent Verification(DateTimeOffset at, Guid? keyId, Guid? applicationId, Guid? productId, Guid? planId, VerifyCode code) => new()
        {
            At = at, KeyId = keyId, ApplicationId = applicationId, ProductId = productId, PlanId = planId, Method = "POST",
            Route = VerificationService.ApiRoute, Status = 200, LatencyMs = random.Next(1, 12), Outcome = VerificationService.CodeText(code),
        };

        for (var hour = thisHour.AddDays(-30); hour <= thisHour; hour = hour.AddHours(1))
        {
            var calls = random.Next(0, hour.Hour is >= 8 and <= 18 ? 30 : 6);
            for (var c = 0; c < calls; c++)
            {
                var at = hour.AddSeconds(random.Next(3600));
                if (at > now) continue;
                // A key is used only once it exists.
                var key = appKeys[random.Next(appKeys.Count)];
                if (key.CreatedAt > at) continue;
                var registrations = approved[key.ApplicationId!.Value].ToList();
                var roll = random.NextDouble();
                if (roll < 0.02)
                    Add(Verification(at, null, null, published[random.Next(published.Count)], null, VerifyCode.NotFound), rollup: true);
                else if (key.RevokedAt is not null && key.RevokedAt < at)
                    Add(Verification(at, key.Id, key.ApplicationId, published[random.Next(published.Count)], null, VerifyCode.Revoked), rollup: true);
                else if (registrations.Count == 0 || roll < 0.08)
                    Add(Verification(at, key.Id, key.ApplicationId, published[random.Next(published.Count)], null, VerifyCode.NotSubscribed), rollup: true);
                else
                {
                    var registration = registrations[random.Next(registrations.Count)];
                    var code = roll < 0.12 ? VerifyCode.RateLimited : roll < 0.14 ? VerifyCode.QuotaExceeded : VerifyCode.Valid;
                    Add(Verification(at, key.Id, key.ApplicationId, registration.ProductId, registration.PlanId, code), rollup: true);
                }
                if (key.LastUsedAt is null || key.LastUsedAt < at) key.LastUsedAt = at;
            }
        }
        foreach (var key in appKeys) db.Entry(key).State = EntityState.Modified;

        // The personal keys' last day, call by call, as their hourly rollups already count it.
        var personal = await (from r in db.UsageRollups
                              join k in db.ApiKeys on r.KeyId equals k.Id
                              where k.OwnerUserId != null && userIds.Contains(k.OwnerUserId.Value) && r.HourStart > thisHour.AddDays(-1)
                              select new { r.KeyId, r.HourStart, r.Count, r.Errors, k.OwnerUserId }).ToListAsync(ct);
        foreach (var r in personal)
            for (var c = 0; c < r.Count; c++)
            {
                var at = r.HourStart.AddSeconds(random.Next(3600));
                Add(new UsageEvent
                {
                    At = at > now ? now : at, KeyId = r.KeyId, OwnerUserId = r.OwnerUserId, Method = "GET",
                    Route = DemoRoutes[random.Next(DemoRoutes.Length)], Status = c < r.Errors ? DemoErrors[random.Next(DemoErrors.Length)] : 200,
                    LatencyMs = 2 + (int)(random.NextDouble() * random.NextDouble() * 120),
                }, rollup: false);
            }
        await db.SaveChangesAsync(ct);
        await UsageRollupWriter.AddAsync(db, UsageTally.Of(counted), ct);
    }
}
