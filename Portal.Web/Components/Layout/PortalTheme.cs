using MudBlazor;

namespace Portal.Web.Components.Layout;

public static class PortalTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3949ab",
            Secondary = "#5f6b7a",
            AppbarBackground = "#283593",
            Background = "#f5f6fa",
            DrawerBackground = "#ffffff",
            Success = "#2e7d32",
            Warning = "#f9a825",
            Error = "#c62828",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#8c9eff",
            // MudBlazor's dark Secondary is pink: captions and hints in Color.Secondary read like errors. A muted grey,
            // as in the light palette.
            Secondary = "#a3adbb",
            SecondaryContrastText = "#1a1f3a",
            TextSecondary = "rgba(255,255,255,0.66)",
            AppbarBackground = "#1a1f3a",
            Success = "#66bb6a",
            Warning = "#fdd835",
            Error = "#ef5350",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["Inter", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"] },
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "8px" },
    };
}
