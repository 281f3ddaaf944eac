using System.Globalization;
using Portal.Core.Features.Billing;

namespace Portal.Web.Features.Billing;

/// <summary>Amounts as the billing page shows them: the currency's minor digits, invariant digits, the code after.</summary>
public static class Money
{
    public static string Format(decimal amount, string currency) =>
        amount.ToString("N" + Currencies.Digits(currency), CultureInfo.InvariantCulture) + " " + currency;

    /// <summary><c>calls 1–1,000: 1,000 × 0.002 = 2.00 USD</c>, <c>… × 0.5 per 1,000</c> for a per-1,000 price, plus the band's flat fee when it has one.</summary>
    public static string Band(BandCharge band, string currency)
    {
        var range = band.UpTo is { } upTo ? $"{band.From:N0}–{upTo:N0}" : band.From == 1 ? "all calls" : $"{band.From:N0}+";
        var unit = band.UnitPrice == 0 && band.FlatFee != 0 ? "" : $": {band.Calls:N0} × {band.UnitPrice.ToString(CultureInfo.InvariantCulture)}{(band.PriceUnit > 1 ? $" per {band.PriceUnit:N0}" : "")}";
        var fee = band.FlatFee != 0 ? $" + {Format(band.FlatFee, currency)} flat" : "";
        return $"{range}{unit}{fee} = {Format(Currencies.Round(band.Amount, currency), currency)}";
    }
}
