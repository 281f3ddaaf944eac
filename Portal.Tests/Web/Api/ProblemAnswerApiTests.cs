using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Portal.Core.Common;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>
/// Every problem the API answers, the framework's own included (no route, wrong method, wrong media type, a body too
/// large), is problem details with a status, a title and a detail that says what to do.
/// </summary>
public sealed class ProblemAnswerApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("title").GetString()), text);
        Assert.False(string.IsNullOrWhiteSpace(body.TryGetProperty("detail", out var detail) ? detail.GetString() : null), $"no detail: {text}");
        return body;
    }

    private async Task<HttpClient> AdminAsync() => (await factory.ClientAsAsync(Roles.SuperAdmin)).Client;

    [Theory]
    [InlineData("/api/v1/users/not-a-guid")]
    [InlineData("/api/v1/no-such-thing")]
    [InlineData("/api/no-such-version/users")]
    [InlineData("/api/v1/usage/requests/not-a-number")]
    public async Task AnAddressNoEndpointMatches_Is404_SayingSo(string path)
    {
        var body = await ProblemAsync(await (await AdminAsync()).GetAsync(path), HttpStatusCode.NotFound);

        Assert.Contains(path, body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task AnUnknownId_Keeps_ItsOwnDetail()
    {
        var body = await ProblemAsync(await (await AdminAsync()).GetAsync($"/api/v1/users/{Guid.NewGuid()}"), HttpStatusCode.NotFound);

        Assert.DoesNotContain("no endpoint", body.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AMethodTheAddressDoesNotTake_Is405_NamingTheAllowedOnes()
    {
        var response = await (await AdminAsync()).PatchAsync("/api/v1/organisation", new StringContent("{}", Encoding.UTF8, "application/json"));

        var detail = (await ProblemAsync(response, HttpStatusCode.MethodNotAllowed)).GetProperty("detail").GetString()!;
        Assert.Contains("PATCH", detail);
        Assert.Contains("GET", detail);
        Assert.Contains("PUT", detail);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task ABodyThatIsNotSentAsJson_Is415_SayingWhichTypeToSend(string mediaType)
    {
        var response = await (await AdminAsync()).PostAsync("/api/v1/api-keys", new StringContent("""{"name":"k","scopes":["read"]}""", Encoding.UTF8, mediaType));

        Assert.Contains("application/json", (await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ABodyOverTheLimit_Is413_TheSameWithOrWithoutContentLength()
    {
        var client = await AdminAsync();
        var json = $$"""{"name":"k","scopes":["read"],"description":"{{new string('a', 1100 * 1024)}}"}""";

        var sized = await ProblemAsync(await client.PostAsync("/api/v1/api-keys", new StringContent(json, Encoding.UTF8, "application/json")),
            HttpStatusCode.RequestEntityTooLarge);
        var streamed = await ProblemAsync(await client.PostAsync("/api/v1/api-keys", new UnsizedJson(json)), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(sized.GetProperty("title").GetString(), streamed.GetProperty("title").GetString());
        Assert.Equal(sized.GetProperty("detail").GetString(), streamed.GetProperty("detail").GetString());
        Assert.Contains("KiB", sized.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/api/v1/users/not-a-guid", HttpStatusCode.NotFound, true)]
    [InlineData("/api/v1/users", HttpStatusCode.Unauthorized, false)]
    public async Task AClientThatAsksForHtml_StillGetsProblemDetails_OnTheApi(string path, HttpStatusCode status, bool withKey)
    {
        var client = withKey ? await AdminAsync() : factory.AnonymousClient();
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        await ProblemAsync(await client.GetAsync(path), status);
    }

    [Fact]
    public async Task TheKeyProblems_HaveADetail()
    {
        await ProblemAsync(await factory.AnonymousClient().GetAsync("/api/v1/users"), HttpStatusCode.Unauthorized);
        var (developer, _) = await factory.ClientAsAsync(Roles.Developer);
        await ProblemAsync(await developer.GetAsync("/api/v1/users"), HttpStatusCode.Forbidden);
    }

    /// <summary>A JSON body sent without a Content-Length, as a chunked upload is.</summary>
    private sealed class UnsizedJson : HttpContent
    {
        private readonly byte[] _bytes;

        public UnsizedJson(string json)
        {
            _bytes = Encoding.UTF8.GetBytes(json);
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(_bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
