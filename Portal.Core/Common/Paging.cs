using System.ComponentModel.DataAnnotations;

namespace Portal.Core.Common;

public record PageQuery
{
    public const int MaxPageSize = 200;

    /// <summary>
    /// The highest page number asked for: a million pages of the largest size is 200 million rows, more than any list
    /// holds, and keeps the row offset far inside an <c>int</c> (a wrapped, negative OFFSET is an error on PostgreSQL).
    /// </summary>
    public const int MaxPage = 1_000_000;

    [Range(1, MaxPage)]
    public int Page { get; init; } = 1;

    [Range(1, MaxPageSize)]
    public int PageSize { get; init; } = 50;

    [StringLength(200)]
    public string? Search { get; init; }

    [StringLength(50)]
    public string? Sort { get; init; }

    public int Skip => (Math.Clamp(Page, 1, MaxPage) - 1) * Math.Clamp(PageSize, 1, MaxPageSize);

    public int Take => Math.Clamp(PageSize, 1, MaxPageSize);
}

public sealed record PagedResult<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

public static class PagingExtensions
{
    public static async Task<PagedResult<T>> ToPageAsync<T>(this IQueryable<T> query, PageQuery page, CancellationToken ct)
    {
        var total = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(query, ct);
        var items = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            query.Skip(page.Skip).Take(page.Take), ct);
        return new PagedResult<T>(items, Math.Max(page.Page, 1), page.Take, total);
    }

    /// <summary>
    /// A page whose total is counted over <paramref name="countable"/>: the same rows without the joins that only
    /// bring columns (a count over one table's index instead of a join of every row).
    /// </summary>
    public static async Task<PagedResult<T>> ToPageAsync<T, TCount>(this IQueryable<T> query, PageQuery page, IQueryable<TCount> countable, CancellationToken ct)
    {
        var total = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(countable, ct);
        var items = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(
            query.Skip(page.Skip).Take(page.Take), ct);
        return new PagedResult<T>(items, Math.Max(page.Page, 1), page.Take, total);
    }
}
