using Portal.Core.Features.Billing;

namespace Portal.Web.Features.Billing;

public static class BillingSetup
{
    /// <summary>The month closing sweep, in the background of every instance (each statement is stored once whichever runs it).</summary>
    public static IServiceCollection AddBilling(this IServiceCollection services)
    {
        services.AddHostedService<StatementClosingService>();
        return services;
    }
}

public sealed class StatementClosingService(StatementCloser closer) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => closer.RunAsync(stoppingToken);
}
