using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Portal.Web.Components;

namespace Portal.Tests.Web.Components;

/// <summary>The one confirmation every destructive action goes through.</summary>
public sealed class ConfirmDialogTests : BunitContext
{
    public ConfirmDialogTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    [Fact]
    public async Task ASecondAsk_WhileOneIsShowing_AnswersNo_AndLeavesOneDialog()
    {
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();

        Task<bool> first = null!;
        await provider.InvokeAsync(() => { first = ConfirmDialog.ShowAsync(dialogs, "Revoke API key", "Revoke key k1?", "Revoke"); });
        provider.WaitForElement("[data-testid=confirm-action]");
        // Without the guard the second ask opens its own dialog and waits for an answer that never comes.
        var second = await provider.InvokeAsync(() => ConfirmDialog.ShowAsync(dialogs, "Revoke API key", "Revoke key k1?", "Revoke"))
            .WaitAsync(TimeSpan.FromSeconds(5), Xunit.TestContext.Current.CancellationToken);

        Assert.False(second);
        Assert.Single(provider.FindAll("[data-testid=confirm-action]"));

        await provider.Find("[data-testid=confirm-action]").ClickAsync(new());
        Assert.True(await first);
        provider.WaitForAssertion(() => Assert.Empty(provider.FindAll("[data-testid=confirm-action]")));

        // Answered, the next click asks again.
        Task<bool> third = null!;
        await provider.InvokeAsync(() => { third = ConfirmDialog.ShowAsync(dialogs, "Revoke API key", "Revoke key k2?", "Revoke"); });
        provider.WaitForElement("[data-testid=confirm-cancel]").Click();
        Assert.False(await third);
    }

    [Fact]
    public async Task ADialogRemovedWithoutAnAnswer_AnswersNo_AndTheCircuitAsksAgain()
    {
        var provider = Render<MudDialogProvider>();
        var dialogs = Services.GetRequiredService<IDialogService>();

        Task<bool> first = null!;
        await provider.InvokeAsync(() => { first = ConfirmDialog.ShowAsync(dialogs, "Delete product", "Delete Maps?", "Delete"); });
        provider.WaitForElement("[data-testid=confirm-action]");

        // The provider goes (the page left, the layout re-rendered): its dialog goes with it, never answered.
        await provider.InvokeAsync(() => DisposeComponentsAsync());
        Assert.False(await first.WaitAsync(TimeSpan.FromSeconds(5), Xunit.TestContext.Current.CancellationToken));

        // The next provider asks again instead of refusing every confirmation of the circuit.
        var next = Render<MudDialogProvider>();
        Task<bool> second = null!;
        await next.InvokeAsync(() => { second = ConfirmDialog.ShowAsync(dialogs, "Delete product", "Delete Maps?", "Delete"); });
        await next.WaitForElement("[data-testid=confirm-action]").ClickAsync(new());
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(5), Xunit.TestContext.Current.CancellationToken));
    }
}
