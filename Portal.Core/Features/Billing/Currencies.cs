using System.Collections.Frozen;

namespace Portal.Core.Features.Billing;

/// <summary>ISO 4217 currencies a plan may be priced in, with the digits of their minor unit (cents: 2, yen: 0, dinars: 3).</summary>
public static class Currencies
{
    public const string Default = "USD";

    // Active ISO 4217 codes (2026) with a minor unit other than 2; every other listed code has 2.
    private const string ZeroDigits = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
    private const string ThreeDigits = "BHD IQD JOD KWD LYD OMR TND";
    private const string TwoDigits =
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY COP " +
        "CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR " +
        "JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN " +
        "NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP " +
        "SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG";

    private static readonly FrozenDictionary<string, int> MinorDigits =
        ZeroDigits.Split(' ').Select(c => (c, 0))
            .Concat(ThreeDigits.Split(' ').Select(c => (c, 3)))
            .Concat(TwoDigits.Split(' ').Select(c => (c, 2)))
            .ToFrozenDictionary(p => p.c, p => p.Item2, StringComparer.Ordinal);

    /// <summary>Every known code, in order (for pickers).</summary>
    public static IReadOnlyList<string> All { get; } = [.. MinorDigits.Keys.Order(StringComparer.Ordinal)];

    /// <summary>True for an upper-case ISO 4217 code listed here.</summary>
    public static bool IsKnown(string? code) => code is { Length: 3 } && MinorDigits.ContainsKey(code);

    /// <summary>The digits after the decimal point of <paramref name="code"/>'s minor unit (2 for an unknown code).</summary>
    public static int Digits(string code) => MinorDigits.TryGetValue(code, out var digits) ? digits : 2;

    /// <summary>Rounds to the currency's minor unit, half away from zero (as invoices do).</summary>
    public static decimal Round(decimal amount, string code) => Math.Round(amount, Digits(code), MidpointRounding.AwayFromZero);
}
