using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Webhooks;
using Portal.Web.Components;

namespace Portal.Web.Features.Webhooks;

/// <summary>The actions both webhook pages offer, each one service call with its dialog and snackbar.</summary>
public static class WebhookActions
{
    private static readonly DialogOptions EditorOptions = new() { MaxWidth = MaxWidth.Medium, FullWidth = true };

    public static Task<IDialogReference> AddAsync(IDialogService dialogs, Actor actor) =>
        dialogs.ShowAsync<WebhookEditorDialog>("Add webhook endpoint",
            new DialogParameters<WebhookEditorDialog> { { d => d.Actor, actor } }, EditorOptions);

    /// <summary>True when the endpoint was saved.</summary>
    public static async Task<bool> EditAsync(IDialogService dialogs, Actor actor, WebhookEndpointDto endpoint)
    {
        var dialog = await dialogs.ShowAsync<WebhookEditorDialog>("Edit webhook endpoint",
            new DialogParameters<WebhookEditorDialog> { { d => d.Actor, actor }, { d => d.Endpoint, endpoint } }, EditorOptions);
        return await dialog.Result is { Canceled: false };
    }

    public static async Task SetEnabledAsync(WebhookService webhooks, ISnackbar snackbar, Actor actor, WebhookEndpointDto endpoint, bool enabled)
    {
        var result = await webhooks.UpdateAsync(actor, endpoint.Id, new UpdateWebhook { Enabled = enabled });
        Show(snackbar, result, enabled ? "Endpoint enabled." : "Endpoint disabled: it receives nothing until enabled again.");
    }

    public static async Task<WebhookDeliveryDto?> SendTestAsync(WebhookService webhooks, ISnackbar snackbar, Actor actor, Guid id)
    {
        var result = await webhooks.SendTestAsync(actor, id);
        Show(snackbar, result, "Test event queued: it is sent within seconds.");
        return result.IsSuccess ? result.Value : null;
    }

    /// <summary>True when the endpoint was deleted.</summary>
    public static async Task<bool> DeleteAsync(WebhookService webhooks, IDialogService dialogs, ISnackbar snackbar, Actor actor, WebhookEndpointDto endpoint)
    {
        if (!await ConfirmDialog.ShowAsync(dialogs, "Delete webhook endpoint",
                $"Delete the endpoint {endpoint.Url} and its delivery log? It receives nothing from now on.", "Delete"))
            return false;
        var result = await webhooks.DeleteAsync(actor, endpoint.Id);
        Show(snackbar, result, "Endpoint deleted.");
        return result.IsSuccess;
    }

    public static void Show<T>(ISnackbar snackbar, Result<T> result, string success) =>
        snackbar.Add(result.IsSuccess ? success : result.Error!.Detail, result.IsSuccess ? Severity.Success : Severity.Error);
}
