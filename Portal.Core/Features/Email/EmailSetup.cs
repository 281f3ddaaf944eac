using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Core.Data;

namespace Portal.Core.Features.Email;

public static class EmailSetup
{
    /// <summary>The outbox, its sender, and the transport the settings choose: SMTP when a host is set, else the pickup folder.</summary>
    public static IServiceCollection AddPortalEmail(this IServiceCollection services, string connectionString, DatabaseProvider provider)
    {
        services.AddSingleton<EmailOutbox>();
        services.AddSingleton<EmailDispatcher>();
        services.AddSingleton(sp => new EmailPickupDirectory(
            PickupDirectoryFor(sp.GetRequiredService<IOptions<PortalOptions>>().Value.Email, connectionString, provider)));
        services.AddSingleton<IEmailTransport>(sp =>
            string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<PortalOptions>>().Value.Email.Smtp.Host)
                ? new PickupDirectoryTransport(sp.GetRequiredService<EmailPickupDirectory>(), sp.GetRequiredService<ILogger<PickupDirectoryTransport>>())
                : new SmtpEmailTransport(sp.GetRequiredService<IOptions<PortalOptions>>()));
        return services;
    }

    /// <summary>The configured folder; else a <c>mail</c> folder next to the SQLite file; else one in the working directory (the content root under <c>dotnet run</c>).</summary>
    public static string PickupDirectoryFor(EmailOptions email, string connectionString, DatabaseProvider provider)
    {
        if (!string.IsNullOrWhiteSpace(email.PickupDirectory)) return Path.GetFullPath(email.PickupDirectory);
        if (provider == DatabaseProvider.Sqlite)
        {
            var builder = new SqliteConnectionStringBuilder(connectionString);
            if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:"
                && Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)) is { } folder)
                return Path.Combine(folder, "mail");
        }
        return Path.Combine(Environment.CurrentDirectory, "mail");
    }
}
