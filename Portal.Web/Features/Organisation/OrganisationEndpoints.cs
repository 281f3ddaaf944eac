using Portal.Core.Common;
using Portal.Core.Features.Organisation;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Organisation;

public static class OrganisationEndpoints
{
    public static void MapOrganisationEndpoints(this IEndpointRouteBuilder app)
    {
        var organisation = app.MapApiGroup("/organisation", "Organisation");
        organisation.MapGet("/", async (OrganisationService service, HttpContext http, CancellationToken ct) =>
                (await service.GetAsync(http.ToActor(), ct)).ToHttpResult())
            .RequirePermission(Permission.OrganisationRead).WithName("GetOrganisation").WithSummary("The deployment's profile: name, contact email, website, logo URL")
            .Produces<OrganisationDto>();
        organisation.MapPut("/", async (UpdateOrganisation request, OrganisationService service, HttpContext http, CancellationToken ct) =>
                (await service.UpdateAsync(http.ToActor(), request, ct)).ToHttpResult())
            .RequirePermission(Permission.OrganisationWrite).WithName("UpdateOrganisation").WithSummary("Replaces the profile")
            .Produces<OrganisationDto>();
    }
}
