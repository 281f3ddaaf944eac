using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/account/login: a static form (#email, #password, "Keep me signed in", "Sign in"); errors in a role=alert div.</summary>
public sealed class LoginPage(IPage page)
{
    public const string InvalidCredentials = "Invalid email or password.";
    /// <summary>A locked account answers what a wrong password or an unknown email does, so the answer tells no one it exists.</summary>
    public const string LockedOut = InvalidCredentials;
    public const string Inactive = "This account is inactive";

    public ILocator Email => page.GetByLabel("Email", new() { Exact = true });
    public ILocator Password => page.GetByLabel("Password", new() { Exact = true });
    public ILocator KeepMeSignedIn => page.GetByLabel("Keep me signed in");
    public ILocator SignInButton => page.GetByRole(AriaRole.Button, new() { Name = "Sign in" });
    public ILocator Error => page.GetByRole(AriaRole.Alert).Filter(new() { HasNotText = "Something went wrong" });

    public async Task GotoAsync()
    {
        await page.GotoAsync("/account/login");
        await ExpectVisibleAsync();
    }

    public async Task ExpectVisibleAsync() => await Expect(SignInButton).ToBeVisibleAsync();

    /// <summary>Fills and submits the form; the caller checks where it landed.</summary>
    public async Task SubmitAsync(string email, string password, bool keepSignedIn = false)
    {
        await Email.FillAsync(email);
        await Password.FillAsync(password);
        if (keepSignedIn) await KeepMeSignedIn.CheckAsync();
        await SignInButton.ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }

    /// <summary>Signs in and waits for the portal's layout (the user menu) to be interactive.</summary>
    public async Task<LayoutPage> SignInAsync(string email, string password, string displayName)
    {
        await GotoAsync();
        await SubmitAsync(email, password);
        var layout = new LayoutPage(page);
        await layout.ExpectSignedInAsAsync(displayName);
        return layout;
    }

    public async Task ExpectErrorAsync(string text) => await Expect(Error).ToContainTextAsync(text);

    public async Task<string> ReadErrorAsync() => (await Error.InnerTextAsync()).Trim();
}
