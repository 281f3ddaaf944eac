#pragma warning disable CS9113 // a stub until the service is written; remove with the first real method
using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Data;

namespace Portal.Core.Features.Subscriptions;

/// <summary>
/// Registrations of applications to products. Developers subscribe and unsubscribe their accounts' applications and
/// see their registrations (another account's answers not-found); admins see all and approve, reject or unregister.
/// </summary>
public sealed class SubscriptionService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider clock)
{
    public Task<Result<PagedResult<SubscriptionDto>>> ListAsync(Actor actor, SubscriptionQuery query, CancellationToken ct = default) =>
        throw new NotImplementedException();

    public Task<Result<SubscriptionDto>> GetAsync(Actor actor, Guid id, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>WAITING, or APPROVED at once when the product needs no approval; 409 while one is open for the product.</summary>
    public Task<Result<SubscriptionDto>> CreateAsync(Actor actor, CreateSubscription request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Only from WAITING (409 otherwise).</summary>
    public Task<Result<SubscriptionDto>> ApproveAsync(Actor actor, Guid id, DecideSubscription request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>Only from WAITING (409 otherwise); the reason is shown to the developer.</summary>
    public Task<Result<SubscriptionDto>> RejectAsync(Actor actor, Guid id, DecideSubscription request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>From WAITING or APPROVED (409 otherwise); verification refuses the application's keys on the next call.</summary>
    public Task<Result<SubscriptionDto>> UnsubscribeAsync(Actor actor, Guid id, CancellationToken ct = default) =>
        throw new NotImplementedException();
}
