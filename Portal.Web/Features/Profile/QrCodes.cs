using QRCoder;

namespace Portal.Web.Features.Profile;

/// <summary>QR codes as PNG data URIs: the page's content security policy allows <c>data:</c> images, and no file is written.</summary>
public static class QrCodes
{
    public static string PngDataUri(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.Q);
        var png = new PngByteQRCode(data).GetGraphic(6);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
