using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core;
using Portal.Core.Data;
using Portal.Core.Features.Users;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Tests.Core.Profile;

/// <summary>
/// What the web host adds for password resets, email confirmation and two-factor sign-in: Identity's user manager and token providers over the same database, with
/// an ephemeral key ring, and a pickup folder of the test's own.
/// </summary>
internal static class SelfServiceSetup
{
    public static Action<IServiceCollection> With(TimeSpan? tokenLifespan = null, string? pickupDirectory = null, Action<PortalOptions>? portal = null,
        TimeSpan? confirmationLifespan = null) => services =>
    {
        services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        services.AddLogging();
        services.AddIdentityCore<PortalUser>(o => o.Password.RequiredLength = 8)
            .AddRoles<PortalRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddDefaultTokenProviders()
            .AddEmailConfirmationTokens();
        if (confirmationLifespan is { } lifespan)
            services.Configure<EmailConfirmationTokenProviderOptions>(o => o.TokenLifespan = lifespan);
        services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = tokenLifespan ?? Portal.Core.Features.Profile.PasswordResetService.LinkLifetime);
        services.Configure<PortalOptions>(o =>
        {
            o.Email.PickupDirectory = pickupDirectory ?? Path.Combine(Path.GetTempPath(), $"portal-mail-{Guid.NewGuid():N}");
            portal?.Invoke(o);
        });
    };
}
