using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Products;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;

namespace Portal.E2E.Support;

/// <summary>
/// Five days of believable traffic on a server, through its real usage recorder and writer: an admin key's API calls
/// (a 500 from <see cref="ErrorRoute"/> every 13th hour, some 404s) and verifications of a developer application's key.
/// Counts stay under 1,000 so pages show them without separators.
/// </summary>
public static class UsageTraffic
{
    public const string ErrorRoute = "/api/v1/audit";

    /// <summary>What was recorded: calls by keys (all within the last 7 days) and how many answered 500.</summary>
    public sealed record Seeded(string KeyName, string ApplicationName, int Calls, int ServerErrors, string DeveloperEmail);

    /// <summary>The password of the developer whose application's key was verified.</summary>
    public const string DeveloperPassword = "Developer#Pass1";

    public static async Task<Seeded> SeedAsync(PortalServer server)
    {
        var unique = Guid.NewGuid().ToString("N")[..6];
        var key = await server.IssueKeyAsync(PortalServer.AdminEmail, $"Nightly reports {unique}", "Pulls the audit log and the key metrics", "read");
        var developer = await server.CreateUserAsync(Roles.Developer, DeveloperPassword, displayName: $"Usage Partner {unique}");
        var app = await server.Get<ApplicationService>().CreateAsync(new Actor(developer.Id, developer.Email, developer.Roles),
            new CreateApplication { Name = $"Storefront {unique}", Description = "The web shop" });
        Assert.True(app.IsSuccess, app.Error?.Detail);
        var product = await server.Get<ProductService>().CreateAsync(Actor.System, new CreateProduct
        {
            Name = $"Payments {unique}", Published = true, RequiresApproval = false,
            Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free }],
        });
        Assert.True(product.IsSuccess, product.Error?.Detail);

        var recorder = server.Get<UsageRecorder>();
        var now = server.Get<TimeProvider>().GetUtcNow();
        var random = new Random(17);
        var (calls, serverErrors) = (0, 0);
        string[] routes = ["/api/v1/me", "/api/v1/users", "/api/v1/api-keys/metrics", ErrorRoute];
        for (var h = 5 * 24 - 1; h >= 1; h--)
        {
            var hour = now.AddHours(-h);
            var busy = hour.Hour is >= 8 and <= 18;
            for (var c = random.Next(busy ? 2 : 0, busy ? 5 : 2); c > 0; c--)
            {
                var status = c == 1 && h % 17 == 0 ? 404 : 200;
                recorder.Record(new UsageRecord(hour.AddMinutes(-c), key.Id, key.OwnerId, "GET", routes[random.Next(routes.Length)], status, random.Next(2, 40)));
                calls++;
            }
            if (h % 13 == 0)
            {
                recorder.Record(new UsageRecord(hour.AddMinutes(-30), key.Id, key.OwnerId, "GET", ErrorRoute, 500, random.Next(50, 200)));
                (calls, serverErrors) = (calls + 1, serverErrors + 1);
            }
            if (busy)
            {
                var code = h % 7 == 0 ? VerifyCode.RateLimited : h % 11 == 0 ? VerifyCode.NotSubscribed : VerifyCode.Valid;
                recorder.Record(new UsageRecord(hour.AddMinutes(-5), app.Value.Key.Id, null, "POST", VerificationService.ApiRoute, 200, random.Next(1, 8),
                    app.Value.Application.Id, product.Value.Id, product.Value.Plans[0].Id, VerificationService.CodeText(code)));
                calls++;
            }
        }
        await server.Get<UsageWriter>().DrainAsync();
        return new Seeded(key.Name, app.Value.Application.Name, calls, serverErrors, developer.Email);
    }
}
