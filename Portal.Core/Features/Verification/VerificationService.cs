using Portal.Core.Common;

namespace Portal.Core.Features.Verification;

/// <summary>
/// Answers whether a key may call a product right now, and counts the call: key, subscription, rate limit, quota,
/// in that order. A refused check consumes nothing. What a gateway calls for every request: no database read in
/// the steady state.
/// </summary>
public sealed class VerificationService
{
    /// <param name="caller">The key that asks (a gateway); null when anonymous verification is configured.</param>
    public Task<Result<VerifyResult>> VerifyAsync(Actor? caller, VerifyKey request, CancellationToken ct = default) =>
        throw new NotImplementedException();

    /// <summary>The catalog's "Try it": verifies one of the actor's own application keys, chosen by key id.</summary>
    public Task<Result<VerifyResult>> TryKeyAsync(Actor actor, Guid keyId, string product, CancellationToken ct = default) =>
        throw new NotImplementedException();
}
