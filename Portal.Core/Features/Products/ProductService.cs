#pragma warning disable CS9113 // a stub until the service is written; remove with the first real method
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;

namespace Portal.Core.Features.Products;

/// <summary>
/// API products and their plans. Everyone with <see cref="Permission.ProductsRead"/> sees published products (the
/// catalog); <see cref="Permission.ProductsReadAll"/> also sees drafts; <see cref="Permission.ProductsManage"/> changes them.
/// </summary>
public sealed class ProductService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    public Task<Result<PagedResult<ProductDto>>> ListAsync(Actor actor, ProductQuery query, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>By id or slug; a draft is not found for those who may not see drafts.</summary>
    public Task<Result<ProductDto>> GetAsync(Actor actor, string idOrSlug, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<Result<ProductDto>> CreateAsync(Actor actor, CreateProduct request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<Result<ProductDto>> UpdateAsync(Actor actor, Guid id, UpdateProduct request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Refused (409) while WAITING or APPROVED subscriptions exist; ended ones go with the product.</summary>
    public Task<Result<Unit>> DeleteAsync(Actor actor, Guid id, CancellationToken ct = default) =>
        throw new NotImplementedException();
}
