using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;

namespace Portal.Core.Features.Users;

/// <summary>A user's role names, in the catalogue's order; one query for one user or a whole page of them.</summary>
internal static class UserRoles
{
    private static readonly List<string> CatalogueOrder = [.. Roles.All];

    public static async Task<List<string>> OfAsync(PortalDbContext db, Guid userId, CancellationToken ct) =>
        (await OfAsync(db, [userId], ct)).GetValueOrDefault(userId, []);

    public static async Task<Dictionary<Guid, List<string>>> OfAsync(PortalDbContext db, List<Guid> userIds, CancellationToken ct)
    {
        var rows = await (from ur in db.UserRoles
                          join r in db.Roles on ur.RoleId equals r.Id
                          where userIds.Contains(ur.UserId)
                          select new { ur.UserId, r.Name }).ToListAsync(ct);
        return rows.GroupBy(x => x.UserId).ToDictionary(
            g => g.Key,
            g => g.Select(x => x.Name!).OrderBy(CatalogueOrder.IndexOf).ToList());
    }
}
