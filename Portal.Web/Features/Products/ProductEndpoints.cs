using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Portal.Core.Common;
using Portal.Core.Features.Products;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Products;

public static class ProductEndpoints
{
    public static void MapProductEndpoints(this IEndpointRouteBuilder app)
    {
        var products = app.MapApiGroup("/products", "Products");
        products.MapGet("/", List).RequirePermission(Permission.ProductsRead)
            .WithName("ListProducts").WithSummary("API products with their plans, paged: ?search=&published=&sort=. Developers see published ones only");
        products.MapGet("/{idOrSlug}", Get).RequirePermission(Permission.ProductsRead)
            .WithName("GetProduct").WithSummary("One product by id or slug; a draft is not found for developers")
            .Produces<ProductDto>();
        products.MapPost("/", Create).RequirePermission(Permission.ProductsManage)
            .WithName("CreateProduct").WithSummary("A product with its plans; the slug is made from the name when empty; 409 for a taken slug")
            .Produces<ProductDto>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        products.MapPatch("/{id:guid}", Update).RequirePermission(Permission.ProductsManage)
            .WithName("UpdateProduct").WithSummary("Partial: omitted fields stay; plans, when given, is the whole new list (matched by id); 409 for a taken slug or removing a plan in use")
            .Produces<ProductDto>().ProducesProblem(StatusCodes.Status409Conflict);
        products.MapDelete("/{id:guid}", Delete).RequirePermission(Permission.ProductsManage)
            .WithName("DeleteProduct").WithSummary("409 while waiting or approved subscriptions exist")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status409Conflict);
        products.MapPost("/{id:guid}/plans/{planId:guid}/what-if", WhatIf).RequirePermission(Permission.ProductsManage)
            .WithName("PreviewPlanChange")
            .WithSummary("What last month would have cost under the proposed plan (body: a plan as in plans[]) and how many calls its quota would have refused, per subscription and in total; nothing is saved")
            .Produces<PlanWhatIf>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<PagedResult<ProductDto>>, ValidationProblem, ProblemHttpResult>> List(
        [AsParameters] ProductListQuery query, ProductService products, HttpContext http, CancellationToken ct) =>
        (await products.ListAsync(http.ToActor(), query.ToQuery(), ct)).ToTypedResult();

    private static async Task<IResult> Get(string idOrSlug, ProductService products, HttpContext http, CancellationToken ct) =>
        (await products.GetAsync(http.ToActor(), idOrSlug, ct)).ToHttpResult();

    private static async Task<IResult> Create(CreateProduct request, ProductService products, HttpContext http, CancellationToken ct) =>
        (await products.CreateAsync(http.ToActor(), request, ct)).ToHttpResult(p => TypedResults.Created($"/api/v1/products/{p.Id}", p));

    private static async Task<IResult> Update(Guid id, UpdateProduct request, ProductService products, HttpContext http, CancellationToken ct) =>
        (await products.UpdateAsync(http.ToActor(), id, request, ct)).ToHttpResult();

    private static async Task<IResult> WhatIf(Guid id, Guid planId, PlanRequest proposed, PlanWhatIfService whatIf, HttpContext http, CancellationToken ct) =>
        (await whatIf.PreviewAsync(http.ToActor(), id, planId, proposed, ct)).ToHttpResult();

    private static async Task<IResult> Delete(Guid id, ProductService products, HttpContext http, CancellationToken ct) =>
        (await products.DeleteAsync(http.ToActor(), id, ct)).ToNoContent();
}

/// <summary>The query string of <c>GET /api/v1/products</c>, bound as one (API.md, "Lists").</summary>
public sealed record ProductListQuery(
    [property: FromQuery(Name = "page")] int Page = 1,
    [property: FromQuery(Name = "pageSize")] int PageSize = 50,
    [property: FromQuery(Name = "search")] string? Search = null,
    [property: FromQuery(Name = "sort")] string? Sort = null,
    [property: FromQuery(Name = "published")] bool? Published = null)
{
    public ProductQuery ToQuery() => new() { Page = Page, PageSize = PageSize, Search = Search, Sort = Sort, Published = Published };
}
