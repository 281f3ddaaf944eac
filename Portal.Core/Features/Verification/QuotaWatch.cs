using Portal.Core.Common;
using Portal.Core.Domain;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Hears of each VALID call counted against a quota, with the limiter's own answer (Quotas raises the 80% and 100%
/// alerts from it). Called on the request path: returns at once, any work goes to the background.
/// </summary>
public interface IQuotaWatch
{
    void Observe(Guid subscriptionId, QuotaPeriod period, LimitState quota, DateTimeOffset now);
}
