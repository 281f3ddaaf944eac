using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>/account/two-factor: QR code, the manual key, a code to turn it on; then the recovery codes, shown once.</summary>
public sealed class TwoFactorSetupPage(IPage page)
{
    public ILocator ManualKey => page.GetByTestId("manual-key");
    public ILocator QrCode => page.GetByRole(AriaRole.Img, new() { Name = "QR code to add Portal to an authenticator app" });
    public ILocator Code => page.GetByLabel("Code from the app", new() { Exact = true });
    public ILocator TurnOnButton => page.GetByRole(AriaRole.Button, new() { Name = "Turn on" });
    public ILocator RecoveryCodes => page.GetByTestId("recovery-codes").Locator("li");
    public ILocator DoneLink => page.GetByRole(AriaRole.Link, new() { Name = "Done" });

    public async Task<string> ReadKeyAsync()
    {
        await Expect(QrCode).ToBeVisibleAsync();
        return (await ManualKey.InnerTextAsync()).Replace(" ", "").Trim().ToUpperInvariant();
    }

    public async Task<IReadOnlyList<string>> TurnOnAsync(string code)
    {
        await Code.FillAsync(code);
        await TurnOnButton.ClickAsync();
        await Expect(page.GetByTestId("two-factor-on")).ToContainTextAsync("Two-factor sign-in is on");
        return (await RecoveryCodes.AllInnerTextsAsync()).Select(c => c.Trim()).ToList();
    }
}

/// <summary>/account/login/two-factor: the second step of sign-in, with an authenticator code or a recovery code.</summary>
public sealed class TwoFactorSignInPage(IPage page)
{
    public ILocator Code => page.Locator("#code");
    public ILocator VerifyButton => page.GetByRole(AriaRole.Button, new() { Name = "Verify" });
    public ILocator UseRecoveryCode => page.GetByRole(AriaRole.Link, new() { Name = "Lost your phone? Use a recovery code" });
    public ILocator Error => page.GetByRole(AriaRole.Alert).Filter(new() { HasNotText = "Something went wrong" });

    public async Task ExpectVisibleAsync() => await Expect(VerifyButton).ToBeVisibleAsync();

    public async Task SubmitAsync(string code)
    {
        await Code.FillAsync(code);
        await VerifyButton.ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.Load);
    }
}
