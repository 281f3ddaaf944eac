using Microsoft.Extensions.Options;
using Portal.Core;
using Portal.Core.Common;
using Portal.Web.Infrastructure;

namespace Portal.Web.Authentication;

/// <summary>
/// <c>/openapi/…</c> is public unless <c>Portal:Api:PublicOpenApi</c> is false; then it answers a signed-in
/// super-admin or admin (cookie), or an API key with the <c>read</c> scope, and 401 / 403 problem details to anyone else.
/// </summary>
public static class OpenApiAccess
{
    public static IApplicationBuilder UseOpenApiAccess(this IApplicationBuilder app) =>
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/openapi"), branch => branch.Use(async (http, next) =>
        {
            if (http.RequestServices.GetRequiredService<IOptions<PortalOptions>>().Value.Api.PublicOpenApi)
            {
                await next(http);
                return;
            }
            // The cookie was read by the authentication middleware; a key is read here, as the API's scheme reads it.
            var user = http.User.Identity?.IsAuthenticated == true ? http.User.ToActor() : null;
            if (user is null)
            {
                var key = await http.RequestServices.GetRequiredService<IApiKeyAuthenticator>().AuthenticateAsync(http, ApiKeyDefaults.Scheme);
                if (key.Succeeded) user = key.Principal.ToActor();
            }
            var allowed = user switch
            {
                null => false,
                { KeyId: not null } => user.Scopes?.Contains(Scopes.Read) == true,
                _ => user.Roles.Contains(Roles.SuperAdmin) || user.Roles.Contains(Roles.Admin),
            };
            if (allowed)
            {
                await next(http);
                return;
            }
            http.Response.StatusCode = user is null ? StatusCodes.Status401Unauthorized : StatusCodes.Status403Forbidden;
            await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = http,
                ProblemDetails =
                {
                    Status = http.Response.StatusCode,
                    Detail = user is null
                        ? "The API description needs a signed-in admin or an API key with the read scope (Portal__Api__PublicOpenApi is false)."
                        : "The API description is for admins and API keys with the read scope.",
                },
            });
        }));
}
