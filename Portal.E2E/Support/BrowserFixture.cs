using Microsoft.Playwright;

namespace Portal.E2E.Support;

/// <summary>One Playwright driver and one Chromium per test class; every test gets a fresh context (cookies, storage).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser is not started.");

    public async ValueTask InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            // Debian's Chromium: no browser download on CI.
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync",
            ],
        });
    }

    public async Task<BrowserSession> NewSessionAsync(string baseUrl, int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(15_000);
        context.SetDefaultNavigationTimeout(30_000);
        var page = await context.NewPageAsync();
        return new BrowserSession(context, page, baseUrl);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>A browser context and its page, recording every console error and uncaught exception the page reports.</summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly List<string> _errors = [];

    public BrowserSession(IBrowserContext context, IPage page, string baseUrl)
    {
        Context = context;
        Page = page;
        BaseUrl = baseUrl;
        page.Console += (_, message) =>
        {
            if (message.Type == "error") Record($"console: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => Record($"page error: {error}");
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public string BaseUrl { get; }

    public IReadOnlyList<string> ConsoleErrors
    {
        get { lock (_errors) return [.. _errors]; }
    }

    public void ClearConsoleErrors()
    {
        lock (_errors) _errors.Clear();
    }

    public void AssertNoConsoleErrors(string where) =>
        Assert.True(ConsoleErrors.Count == 0, $"Console errors on {where}:{Environment.NewLine}{string.Join(Environment.NewLine, ConsoleErrors)}");

    private void Record(string error)
    {
        lock (_errors) _errors.Add(error);
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
