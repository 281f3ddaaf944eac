using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using Portal.Core;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Web.Components.Layout;
using Portal.Web.Features.Account;
using Portal.Web.Features.ApiReference;
using Portal.Web.Features.Billing;
using Portal.Web.Features.Applications;
using Portal.Web.Features.Gateway;
using Portal.Web.Features.Usage;
using Portal.Web.Features.Verification;
using Portal.Web.Features.Webhooks;

using Portal.Web.Features.Profile;
using Portal.Web.Authentication;
using Portal.Web.Infrastructure;

namespace Portal.Web.Host;

/// <summary>Service registration and the middleware pipeline, kept out of Program.cs so it stays a list of features.</summary>
public static class PortalHost
{
    public static WebApplicationBuilder AddPortalServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var options = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        services.Configure<PortalOptions>(builder.Configuration.GetSection(PortalOptions.Section));
        var provider = DatabaseProviders.Parse(options.Database.Provider);
        var connectionString = options.Database.ConnectionString switch
        {
            { Length: > 0 } set => set,
            _ when provider == DatabaseProvider.Sqlite => $"Data Source={Path.Combine(builder.Environment.ContentRootPath, "portal.db")}",
            _ => throw new InvalidOperationException(
                "Portal:Database:ConnectionString is required for PostgreSQL, e.g. 'Host=db;Port=5432;Database=portal;Username=portal;Password=…'."),
        };

        // A CLI command's stdout is its answer (create-api-key prints a key for a script to capture): logs go to stderr.
        if (CliCommands.IsCommand(Environment.GetCommandLineArgs().Skip(1).ToArray()))
            services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddPortalCore(connectionString, provider);
        services.AddPortalIdentity();
        services.AddPortalDataProtection(KeyRingPlan.From(options.DataProtection, provider, connectionString));
        services.AddPortalForwardedHeaders(options.ForwardedHeaders);
        services.AddHostedService<UsageWriterService>();
        services.AddHostedService<UsageTopBasesService>();
        services.AddHostedService<QuotaFlushingService>();
        services.AddHostedService<CacheNoticeService>();
        services.AddWebhooks();
        services.AddGateway();
        builder.AddGatewayListener(options.Gateway);
        services.AddAuthorizationBuilder().AddPermissionPolicies();
        // The API's policies are decided without per-request services; any other policy by the framework's evaluator.
        services.AddTransient<PolicyEvaluator>();
        services.AddSingleton<IPolicyEvaluator, ApiKeyPolicyEvaluator>();
        services.AddHttpContextAccessor();
        services.AddScoped<CircuitClient>();
        services.AddSingleton<FirstKeyHandoff>();
        services.AddPortalHealthChecks();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ApiProblems.Complete);
        services.AddSingleton<IProblemDetailsWriter, ApiProblemWriter>(); // after the framework's writer: takes only what it refuses
        services.AddExceptionHandler<BadRequestProblems>();
        services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = RequestSizeLimit.MaxBodyBytes);
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer<ApiKeySecurityTransformer>();
            o.AddOperationTransformer<ApiKeySecurityTransformer>();
            o.AddOperationTransformer<ListQueryTransformer>();
        });
        services.AddSingleton<ApiCatalog>();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(o => PortalSnackbars.Configure(o.SnackbarConfiguration));
        services.AddAccountRateLimits();
        services.AddApiRateLimits(options.Api.RateLimit);
        services.AddSelfService();
        services.AddNotifications();
        services.AddBilling();
        return builder;
    }

    public static WebApplication UsePortalPipeline(this WebApplication app)
    {
        // Before anything reads the client's address or scheme (usage, audit, rate limits, cookies).
        app.UseSecurityHeaders();
        // Authentication and authorization where WebApplication would put them (first, after routing), with one
        // difference: /api is authenticated by key only (every API endpoint's policy runs the key scheme and replaces
        // the user), so the cookie scheme, which the authentication middleware runs for every request, is not run
        // there. WebApplication adds its own UseAuthentication unless the marker UseAuthentication sets is present;
        // the branch sets it on a copy of the properties, so it is set here too. (Should the name ever change, the
        // cost is a second, cheap authentication of the cookie outside /api and the cookie read again on /api.)
        // Usage recording wraps authorization, so a call refused for its scopes (403) is recorded against its key too.
        app.UseGateway();
        app.UseMiddleware<UsageRecordingMiddleware>();
        app.UseWhen(http => !ApiProblems.IsApi(http), web => web.UseAuthentication());
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        app.UseAuthorization();
        if (app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.Security.RequireTwoFactorForAdmins)
            app.UseMiddleware<TwoFactorEnrolmentGate>();
        app.UseExceptionHandler();
        app.UseApiBodyLimit(RequestSizeLimit.MaxBodyBytes);
        // A body-less error answer: the portal's own "not found" page, in its layout, for a browser's GET of an unknown
        // address (the status code stays 404); problem details for everything else (the API, other statuses, posts).
        // Re-execution sits on the app itself, not in a branch: only there does it route the re-executed request again.
        // The inner handler answers first; only a page's 404 is left body-less for the outer one to re-execute.
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        var problemDetails = new StatusCodePagesOptions().HandleAsync;
        app.UseStatusCodePages(context => IsPageNotFound(context.HttpContext) ? Task.CompletedTask : problemDetails(context));
        app.UseRateLimiter();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.UseOpenApiAccess();
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }

    private static bool IsPageNotFound(HttpContext http) =>
        http.Response.StatusCode == StatusCodes.Status404NotFound && !ApiProblems.IsApi(http)
        && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method));
}
