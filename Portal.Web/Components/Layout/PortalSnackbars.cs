using MudBlazor;

namespace Portal.Web.Components.Layout;

/// <summary>
/// Where results show: bottom right (app.css centres them along the bottom on phones), away from the header's buttons
/// and a dialog's close button; at most three at once, and the same message twice shows once.
/// </summary>
public static class PortalSnackbars
{
    public static void Configure(SnackbarConfiguration snackbars)
    {
        snackbars.PositionClass = Defaults.Classes.Position.BottomRight;
        snackbars.MaxDisplayedSnackbars = 3;
        snackbars.PreventDuplicates = true;
        snackbars.NewestOnTop = false;
        snackbars.ShowCloseIcon = true;
        snackbars.VisibleStateDuration = 5000;
    }
}
