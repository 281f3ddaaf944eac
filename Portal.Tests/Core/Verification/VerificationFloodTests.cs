using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Verification;

/// <summary>Floods of random well-formed keys: no database read after the first miss, a bounded number of usage rows, every call still counted.</summary>
public sealed class VerificationFloodTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private Actor _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _gateway = (await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read])).Actor with { KeyId = Guid.NewGuid() };
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task AFloodOfRandomKeys_WritesABoundedNumberOfRows_AndTheOutcomeCountsStillHoldEveryCall()
    {
        const int flood = 500;
        var verification = _db.Get<VerificationService>();
        for (var i = 0; i < flood; i++)
        {
            var answer = await verification.VerifyAsync(_gateway, new VerifyKey { Key = ApiKeyFormat.Generate().Key, Product = "payments" });
            Assert.Equal(VerifyCode.NotFound, answer.Value.Code);
        }
        // One malformed key too: refused without a lookup, counted the same way.
        await verification.VerifyAsync(_gateway, new VerifyKey { Key = "ptl_not-a-key", Product = "payments" });
        await _db.Get<UsageWriter>().DrainAsync();

        await using var db = await _db.OpenAsync();
        Assert.Equal(0, await db.UsageEvents.CountAsync(e => e.Outcome == "NOT_FOUND"));
        var refusals = await db.UsageRefusalMinutes.ToListAsync();
        var row = Assert.Single(refusals);
        Assert.Equal((_gateway.KeyId!.Value, "Verification", "NOT_FOUND", flood + 1L), (row.CallerKeyId, row.Source, row.Outcome, row.Count));
        Assert.Equal(flood + 1, await db.UsageOutcomeHours.Where(o => o.Outcome == "NOT_FOUND").SumAsync(o => o.Count));
        Assert.Equal(flood + 1, await db.UsageVerificationHours.Where(v => v.Outcome == "NOT_FOUND").SumAsync(v => v.Count));
    }

    [Fact]
    public async Task RefusalsOfLaterMinutes_AddRowsPerMinute_AndAddUpInTheSameMinute()
    {
        var verification = _db.Get<VerificationService>();
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 3; i++)
                await verification.VerifyAsync(_gateway, new VerifyKey { Key = ApiKeyFormat.Generate().Key, Product = "payments" });
            // Two batches in the same minute add to one row.
            await _db.Get<UsageWriter>().DrainAsync();
            await verification.VerifyAsync(_gateway, new VerifyKey { Key = ApiKeyFormat.Generate().Key, Product = "payments" });
            await _db.Get<UsageWriter>().DrainAsync();
            _db.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        await using var db = await _db.OpenAsync();
        Assert.Equal([4L, 4L], await db.UsageRefusalMinutes.OrderBy(r => r.MinuteStart).Select(r => r.Count).ToListAsync());
    }

    [Fact]
    public async Task AnUnknownKey_IsLookedUpOnce_ThenAnsweredFromMemory()
    {
        var keys = _db.Get<ApiKeyService>();
        var unknown = ApiKeyFormat.Generate().Key;

        var before = keys.DatabaseLookups;
        for (var i = 0; i < 10; i++) Assert.Equal(KeyCheckCode.NotFound, (await keys.AuthenticateAsync(unknown)).Code);

        Assert.Equal(before + 1, keys.DatabaseLookups);
        // Short-lived: after the time to live it is asked again.
        _db.Clock.Advance(ApiKeyCache.MissingTimeToLive);
        await keys.AuthenticateAsync(unknown);
        Assert.Equal(before + 2, keys.DatabaseLookups);
    }

    [Fact]
    public async Task ARememberedMiss_DoesNotRefuseAKeyCreatedAfterwards()
    {
        var keys = _db.Get<ApiKeyService>();
        var secret = ApiKeyFormat.Generate();
        Assert.Equal(KeyCheckCode.NotFound, (await keys.AuthenticateAsync(secret.Key)).Code);

        // Saved as anything that creates keys saves them; only the secret is chosen by the test.
        var (owner, _) = await _db.CreateUserAsync(Roles.Developer);
        await using (var db = await _db.OpenAsync())
        {
            db.ApiKeys.Add(new ApiKey
            {
                OwnerUserId = owner.Id, Name = "later", Scopes = Scopes.Read, Hash = secret.Hash, Start = secret.Start, Last4 = secret.Last4,
                CreatedAt = _db.Clock.GetUtcNow(),
            });
            await db.SaveChangesAsync();
        }

        var check = await keys.AuthenticateAsync(secret.Key);
        Assert.Equal(KeyCheckCode.Valid, check.Code);
    }
}
