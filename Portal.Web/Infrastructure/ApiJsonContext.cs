using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Compile-time JSON writers for the API's hottest answers: <c>GET /me</c> (every script checking its key) and
/// <c>POST /keys/verify</c> (every call through a gateway). The generated code writes the object directly instead of
/// walking the reflection serializer's converters, which was the largest single cost of answering <c>/me</c>
/// (README, "Benchmark"). Used through <see cref="ResultHttp.ToHttpResult{T}(Portal.Core.Common.Result{T}, System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/>
/// with the context's own options: the API's shared options (relaxed escaping, a global enum converter) would switch
/// the generated writers off. Same names as the rest of the API: web defaults (camelCase) and enums as names.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(MeDto))]
[JsonSerializable(typeof(VerifyResult))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
