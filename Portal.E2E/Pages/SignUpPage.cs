using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/account/signup: a static form (#email, #displayName, #password, #confirmPassword, "Create account").</summary>
public sealed class SignUpPage(IPage page)
{
    public ILocator Title => page.GetByText("Create an account", new() { Exact = true });
    public ILocator Email => page.GetByLabel("Email", new() { Exact = true });
    public ILocator DisplayName => page.GetByLabel("Display name", new() { Exact = true });
    public ILocator Password => page.GetByLabel("Password", new() { Exact = true });
    public ILocator ConfirmPassword => page.GetByLabel("Confirm password", new() { Exact = true });
    public ILocator SubmitButton => page.GetByRole(AriaRole.Button, new() { Name = "Create account", Exact = true });

    public async Task GotoAsync()
    {
        await page.GotoAsync("/account/signup");
        await ExpectVisibleAsync();
    }

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/account/signup"));
        await Expect(SubmitButton).ToBeVisibleAsync();
    }

    /// <summary>Fills and submits the form; the caller checks where it landed (My Applications on success).</summary>
    public async Task SubmitAsync(string email, string displayName, string password)
    {
        await Email.FillAsync(email);
        await DisplayName.FillAsync(displayName);
        await Password.FillAsync(password);
        await ConfirmPassword.FillAsync(password);
        await SubmitButton.ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }
}
