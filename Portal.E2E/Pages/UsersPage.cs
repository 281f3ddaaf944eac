using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Portal.E2E.Support;
using static Microsoft.Playwright.Assertions;

namespace Portal.E2E.Pages;

/// <summary>
/// /users: list with search, row actions (icon buttons "Edit", "Reset password", "Delete") and dialogs
/// "Create user", "Edit user", "Reset password", "Delete user".
/// </summary>
public sealed class UsersPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Users", Level = 1 });
    public ILocator CreateUserButton => page.GetByRole(AriaRole.Button, new() { Name = "Create user", Exact = true });
    public ILocator Search => page.GetByLabel("Search").Or(page.GetByPlaceholder("Search")).First;

    /// <summary>The table row that shows <paramref name="email"/>.</summary>
    public ILocator Row(string email) => page.GetByRole(AriaRole.Row).Filter(new() { HasText = email });

    public ILocator RowAction(string email, string action) =>
        Row(email).GetByRole(AriaRole.Button, new() { Name = action, Exact = true });

    /// <summary>Every row action of that name, in whichever row.</summary>
    public ILocator AnyRowAction(string action) =>
        page.GetByRole(AriaRole.Row).GetByRole(AriaRole.Button, new() { Name = action, Exact = true });

    public ILocator Dialog(string title) =>
        page.GetByRole(AriaRole.Dialog).Filter(new() { Has = page.GetByText(title, new() { Exact = true }) });

    public async Task GotoAsync()
    {
        await page.GotoAsync("/users");
        await ExpectVisibleAsync();
        // A full page load: typing or clicking before the circuit wires the page is lost.
        await new LayoutPage(page).WaitForInteractiveAsync();
    }

    public async Task ExpectVisibleAsync()
    {
        await Expect(page).ToHaveURLAsync(new Regex("/users"));
        await Expect(Heading).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    public async Task SearchAsync(string text)
    {
        await Search.FillAsync(text);
        await Search.PressAsync("Enter");
    }

    public async Task ExpectUserListedAsync(string email) => await Expect(Row(email)).ToBeVisibleAsync();

    public async Task ExpectUserNotListedAsync(string email) => await Expect(Row(email)).ToHaveCountAsync(0);

    public async Task CreateUserAsync(string email, string displayName, string password, string role)
    {
        var dialog = Dialog("Create user");
        await Interactive.ClickUntilVisibleAsync(CreateUserButton, dialog);
        await dialog.GetByLabel("Email", new() { Exact = true }).FillAsync(email);
        await dialog.GetByLabel("Display name", new() { Exact = true }).FillAsync(displayName);
        await dialog.GetByLabel("Password", new() { Exact = true }).FillAsync(password);
        await ChooseRoleAsync(dialog, role);
        await SaveAsync(dialog);
        await SearchAsync(email);
        await ExpectUserListedAsync(email);
    }

    public async Task EditUserAsync(string email, string? displayName = null, string? status = null)
    {
        var dialog = Dialog("Edit user");
        await SearchAsync(email);
        await Interactive.ClickUntilVisibleAsync(RowAction(email, "Edit"), dialog);
        if (displayName is not null) await dialog.GetByLabel("Display name", new() { Exact = true }).FillAsync(displayName);
        if (status is not null) await ChooseAsync(dialog, "Status", status);
        await SaveAsync(dialog);
        if (displayName is not null) await Expect(Row(email)).ToContainTextAsync(displayName);
    }

    /// <summary>
    /// Edit user: each role in <paramref name="toggle"/> picked or unpicked in "Roles", then Save. The caller checks what
    /// follows (lowering one's own roles signs one out).
    /// </summary>
    public async Task ToggleRolesAsync(string email, params string[] toggle)
    {
        var dialog = Dialog("Edit user");
        await SearchAsync(email);
        await Interactive.ClickUntilVisibleAsync(RowAction(email, "Edit"), dialog);
        foreach (var role in toggle) await ChooseAsync(dialog, "Roles", role);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
    }

    public async Task ResetPasswordAsync(string email, string newPassword)
    {
        var dialog = Dialog("Reset password");
        await SearchAsync(email);
        await Interactive.ClickUntilVisibleAsync(RowAction(email, "Reset password"), dialog);
        await dialog.GetByRole(AriaRole.Textbox, new() { Name = "Password", Exact = true }).FillAsync(newPassword);
        await dialog.GetByRole(AriaRole.Textbox, new() { Name = "Confirm password", Exact = true }).FillAsync(newPassword);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Reset password", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
    }

    /// <summary>Delete asks for confirmation in the "Delete user" dialog first.</summary>
    public async Task DeleteUserAsync(string email)
    {
        var dialog = Dialog("Delete user");
        await SearchAsync(email);
        await Interactive.ClickUntilVisibleAsync(RowAction(email, "Delete"), dialog);
        await Expect(dialog).ToContainTextAsync(email);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await ExpectUserNotListedAsync(email);
    }

    public async Task ExpectCreateUserAsync(bool visible)
    {
        if (visible) await Expect(CreateUserButton).ToBeVisibleAsync();
        else await Expect(CreateUserButton).ToHaveCountAsync(0);
    }

    /// <summary>Checks which row actions the signed-in user sees for <paramref name="email"/>.</summary>
    public async Task ExpectRowActionsAsync(string email, bool edit, bool resetPassword, bool delete)
    {
        await ExpectUserListedAsync(email);
        await ExpectCountAsync(RowAction(email, "Edit"), edit);
        await ExpectCountAsync(RowAction(email, "Reset password"), resetPassword);
        await ExpectCountAsync(RowAction(email, "Delete"), delete);
    }

    public async Task ExpectNoActionButtonsAsync()
    {
        await Expect(CreateUserButton).ToHaveCountAsync(0);
        foreach (var action in new[] { "Edit", "Reset password", "Delete" })
            await Expect(AnyRowAction(action)).ToHaveCountAsync(0);
    }

    private static async Task ExpectCountAsync(ILocator locator, bool visible)
    {
        if (visible) await Expect(locator).ToBeVisibleAsync();
        else await Expect(locator).ToHaveCountAsync(0);
    }

    private static async Task SaveAsync(ILocator dialog)
    {
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
    }

    /// <summary>Roles as checkboxes or as a (multi-)select labelled "Roles"; either way the option is the role name.</summary>
    private async Task ChooseRoleAsync(ILocator dialog, string role)
    {
        var checkbox = dialog.GetByRole(AriaRole.Checkbox, new() { Name = role, Exact = true });
        if (await checkbox.CountAsync() > 0)
        {
            await checkbox.CheckAsync();
            return;
        }
        await ChooseAsync(dialog, "Roles", role);
    }

    /// <summary>A MudSelect: open it by its label, pick the option from the popover, click the dialog title to close it.</summary>
    private async Task ChooseAsync(ILocator dialog, string label, string option)
    {
        await dialog.GetByLabel(label, new() { Exact = true }).ClickAsync(new() { Force = true });
        await Support.Interactive.PopoverOption(page, option).ClickAsync();
        // A multi-select stays open; Escape would close the whole dialog.
        if (await page.Locator(".mud-popover-open").CountAsync() > 0)
            await dialog.Locator(".mud-dialog-title").ClickAsync();
    }
}
