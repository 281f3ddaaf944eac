using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/account/forgot-password: one email field and "Send reset link"; the answer in a role=status notice.</summary>
public sealed class ForgotPasswordPage(IPage page)
{
    public ILocator Email => page.GetByLabel("Email", new() { Exact = true });
    public ILocator SendButton => page.GetByRole(AriaRole.Button, new() { Name = "Send reset link" });
    public ILocator Notice => page.GetByRole(AriaRole.Status);

    public async Task RequestAsync(string email)
    {
        await Email.FillAsync(email);
        await SendButton.ClickAsync();
        await Expect(Notice).ToContainTextAsync("an email with a link to choose a new password is on its way");
    }
}

/// <summary>/account/reset-password?user=…&amp;token=…: new password twice, "Set new password".</summary>
public sealed class ResetPasswordPage(IPage page)
{
    public ILocator Password => page.GetByLabel("New password", new() { Exact = true });
    public ILocator Confirm => page.GetByLabel("Confirm new password", new() { Exact = true });
    public ILocator SubmitButton => page.GetByRole(AriaRole.Button, new() { Name = "Set new password" });
    public ILocator Notice => page.GetByRole(AriaRole.Status);
    public ILocator Error => page.GetByRole(AriaRole.Alert);

    public async Task ResetAsync(string password)
    {
        await Password.FillAsync(password);
        await Confirm.FillAsync(password);
        await SubmitButton.ClickAsync();
        await Expect(Notice).ToContainTextAsync("Your password is changed");
    }
}

/// <summary>/account/profile: details, a link to change the password, "sign out of every other session", recent sign-ins.</summary>
public sealed class ProfilePage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Profile", Level = 1 });
    public ILocator ChangePasswordLink => page.GetByRole(AriaRole.Link, new() { Name = "Change password" });
    public ILocator SignOutOthersButton => page.GetByRole(AriaRole.Button, new() { Name = "Sign out of every other session" });
    public ILocator RecentSignIns => page.Locator(".profile-signins");
    public ILocator PasswordChangedNotice => page.Locator("#password .mud-alert");

    public async Task GotoAsync()
    {
        await page.GotoAsync("/account/profile");
        await Expect(Heading).ToBeVisibleAsync();
    }
}

/// <summary>/account/change-password: a static form (current, new, confirm); field errors under each field.</summary>
public sealed class ChangePasswordPage(IPage page)
{
    public ILocator CurrentPassword => page.GetByLabel("Current password", new() { Exact = true });
    public ILocator NewPassword => page.GetByLabel("New password", new() { Exact = true });
    public ILocator ConfirmPassword => page.GetByLabel("Confirm new password", new() { Exact = true });
    public ILocator SubmitButton => page.GetByRole(AriaRole.Button, new() { Name = "Change password" });
    public ILocator FieldErrors => page.Locator(".account-field-error, .validation-message");

    public async Task SubmitAsync(string current, string next)
    {
        await CurrentPassword.FillAsync(current);
        await NewPassword.FillAsync(next);
        await ConfirmPassword.FillAsync(next);
        await SubmitButton.ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }
}
