using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;

namespace Portal.Web.Infrastructure;

/// <summary>
/// Compile-time JSON writers for the API's hottest answers: <c>GET /me</c> (every script checking its key) and
/// <c>POST /keys/verify</c> (every call through a gateway). The generated code writes the object directly instead of
/// walking the reflection serializer's converters, which was the largest single cost of answering <c>/me</c>
/// (docs/benchmarks.md). Used through <c>ResultHttp.ToHttpResult(result, contract)</c> with the context's own
/// options, because the API's shared options (relaxed escaping, a global enum converter) would switch the generated
/// writers off. The same names as every other answer (web defaults: camelCase; enums as names); text that needs
/// escaping is escaped by the default encoder, so a name like <c>O'Brien</c> arrives as <c>O\u0027Brien</c>: other
/// bytes, the same JSON value.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(MeDto))]
[JsonSerializable(typeof(VerifyResult))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
