using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;
using Portal.Tests.Support;
using Portal.Web.Infrastructure;
using Portal.Core.Common;

namespace Portal.Tests.Web.Api;

/// <summary>
/// The compile-time writers of the hottest answers write the same JSON as the API's shared options would: same
/// names, enums as the same names, nulls and dictionary keys as they are.
/// </summary>
public sealed class ApiJsonContextTests : IClassFixture<PortalApiFactory>
{
    private readonly JsonSerializerOptions _api;

    public ApiJsonContextTests(PortalApiFactory factory) => _api = factory.Get<IOptions<JsonOptions>>().Value.SerializerOptions;

    public static TheoryData<MeDto> Callers => new()
    {
        new MeDto(Guid.NewGuid(), "dev@portal.test", "Dev", ["developer"], Guid.NewGuid(), ["read", "write"], ["Self", "ApiKeysRead"]),
        new MeDto(null, null, "Billing app", [], Guid.NewGuid(), [], ["Self"], Guid.NewGuid()),
    };

    [Theory]
    [MemberData(nameof(Callers))]
    public void Me_IsWrittenAsTheSharedOptionsWouldWriteIt(MeDto me) =>
        Assert.Equal(JsonSerializer.Serialize(me, _api), JsonSerializer.Serialize(me, ApiJsonContext.Default.MeDto));

    [Fact]
    public void TextNeedingEscapes_ReadsBackTheSame()
    {
        // The generated writers escape with the default encoder (stricter than the shared options' relaxed one):
        // other bytes, the same JSON values.
        var me = new MeDto(Guid.NewGuid(), "zoë+ops@portal.test", "Zoë O'Brien <ops> & \"co\"", ["developer"], Guid.NewGuid(), ["read"], ["Self"]);

        var generated = JsonNode.Parse(JsonSerializer.Serialize(me, ApiJsonContext.Default.MeDto));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(JsonSerializer.Serialize(me, _api)), generated));
        Assert.Equal(me.DisplayName, generated!["displayName"]!.GetValue<string>());
    }

    public static TheoryData<VerifyResult> Verdicts => new()
    {
        new VerifyResult(true, VerifyCode.Valid, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(),
            new VerifyPlan(Guid.NewGuid(), "Gold", "Subscription"),
            new LimitState(100, 99, 1, DateTimeOffset.Parse("2026-11-23T10:00:01Z")), new LimitState(null, null, null, null), null,
            new Dictionary<string, string> { ["RateLimit-Limit"] = "100", ["RateLimit-Remaining"] = "99" }),
        new VerifyResult(false, VerifyCode.RateLimited, Guid.NewGuid(), null, null, null, null, null, null, 3,
            new Dictionary<string, string> { ["Retry-After"] = "3" }),
        new VerifyResult(false, VerifyCode.QuotaExceeded, null, null, null, null, null, null, null, null, new Dictionary<string, string>()),
    };

    [Theory]
    [MemberData(nameof(Verdicts))]
    public void Verification_IsWrittenAsTheSharedOptionsWouldWriteIt(VerifyResult result)
    {
        var generated = JsonSerializer.Serialize(result, ApiJsonContext.Default.VerifyResult);

        Assert.Equal(JsonSerializer.Serialize(result, _api), generated);
        Assert.Contains($"\"code\":\"{JsonSerializer.Serialize(result.Code, _api).Trim('"')}\"", generated);
    }
}
