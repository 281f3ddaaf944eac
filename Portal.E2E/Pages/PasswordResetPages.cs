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

/// <summary>/account/profile: details, the change-password form (a real post) and recent sign-ins.</summary>
public sealed class ProfilePage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Profile", Level = 1 });
    public ILocator CurrentPassword => page.GetByLabel("Current password", new() { Exact = true });
    public ILocator NewPassword => page.GetByLabel("New password", new() { Exact = true });
    public ILocator ConfirmPassword => page.GetByLabel("Confirm new password", new() { Exact = true });
    public ILocator ChangePasswordButton => page.GetByRole(AriaRole.Button, new() { Name = "Change password" });
    public ILocator SignOutOthersButton => page.GetByRole(AriaRole.Button, new() { Name = "Sign out of every other session" });
    public ILocator RecentSignIns => page.Locator(".profile-signins");
    public ILocator PasswordAlert => page.Locator("#password .mud-alert");

    public async Task GotoAsync()
    {
        await page.GotoAsync("/account/profile");
        await Expect(Heading).ToBeVisibleAsync();
    }

    public async Task ChangePasswordAsync(string current, string next)
    {
        // The circuit starting re-renders the prerendered form and empties it: fill until the values stay.
        for (var attempt = 0; attempt < 6; attempt++)
        {
            await CurrentPassword.FillAsync(current);
            await NewPassword.FillAsync(next);
            await ConfirmPassword.FillAsync(next);
            await page.WaitForTimeoutAsync(500);
            if (await CurrentPassword.InputValueAsync() == current && await ConfirmPassword.InputValueAsync() == next) break;
        }
        // A real post that answers with a redirect back here: wait for the new page, not the address it came from.
        var before = page.Url;
        await page.RunAndWaitForResponseAsync(() => ChangePasswordButton.ClickAsync(), r => r.Url.Contains("/account/profile/password"));
        await page.WaitForURLAsync(url => url != before && url.Contains("password="));
        await page.WaitForLoadStateAsync(LoadState.Load);
    }
}
