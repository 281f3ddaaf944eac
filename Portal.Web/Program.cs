using Portal.Core.Data;
using Portal.Web.Components;
using Portal.Web.Features.Account;
using Portal.Web.Features.Accounts;
using Portal.Web.Features.ApiKeys;
using Portal.Web.Features.Applications;
using Portal.Web.Features.Audit;
using Portal.Web.Features.Billing;
using Portal.Web.Features.Exports;
using Portal.Web.Features.Organisation;
using Portal.Web.Features.Products;
using Portal.Web.Features.Profile;
using Portal.Web.Features.Subscriptions;
using Portal.Web.Features.Usage;
using Portal.Web.Features.Users;
using Portal.Web.Features.Verification;
using Portal.Web.Features.Webhooks;
using Portal.Web.Infrastructure;
using Portal.Web.Host;

var builder = WebApplication.CreateBuilder(args);
builder.AddPortalServices();

var app = builder.Build();
if (await CliCommands.TryRunAsync(app, args)) return;
await app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync();

app.UsePortalPipeline();
app.MapPortalHealthChecks();
app.MapAccountEndpoints();
app.MapMeEndpoints();
app.MapProfileEndpoints();
app.MapUserEndpoints();
app.MapOrganisationEndpoints();
app.MapAuditEndpoints();
app.MapApiKeyEndpoints();
app.MapDeveloperAccountEndpoints();
app.MapApplicationEndpoints();
app.MapProductEndpoints();
app.MapSubscriptionEndpoints();
app.MapVerificationEndpoints();
app.MapWebhookEndpoints();
app.MapUsageEndpoints();
app.MapBillingEndpoints();
app.MapExportEndpoints();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
app.Run();

public partial class Program;
