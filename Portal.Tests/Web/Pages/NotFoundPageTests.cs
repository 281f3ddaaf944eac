using System.Net;
using System.Net.Http.Headers;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Pages;

/// <summary>Unknown addresses: a page in the portal's layout for browsers, problem details for the API; 404 either way.</summary>
public sealed class NotFoundPageTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private HttpClient Browser()
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        return client;
    }

    [Theory]
    [InlineData("/nonexistent-page")]
    [InlineData("/applications/not-a-guid")]
    [InlineData("/webhooks/xyz")]
    [InlineData("/products/payments-api/nope/deeper")]
    public async Task UnknownPage_AnswersTheNotFoundPage_With404(string path)
    {
        var response = await Browser().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Page not found", html);
        Assert.Contains("Go to the dashboard", html);
        Assert.Contains("mud-layout", html); // inside the portal's layout, not a bare page
        Assert.DoesNotContain("\"status\":404", html);
    }

    [Theory]
    [InlineData("/api/v1/nope")]
    [InlineData("/api/nope")]
    public async Task UnknownApiAddress_StaysProblemDetails(string path)
    {
        var response = await Browser().GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Page not found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task PostToAnUnknownAddress_GetsNoPage()
    {
        var response = await Browser().PostAsync("/nonexistent-page", new StringContent(""));

        // Only a browser's GET gets the page; a post is refused as before (the router answers 405 for it).
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Page not found", await response.Content.ReadAsStringAsync());
    }
}
