using System.Globalization;

namespace Portal.Core.Common;

public static class Amounts
{
    /// <summary>An amount as audit details and alert data write it: without trailing zeros (a stored 2.000000 reads 2), never with a thousands separator.</summary>
    public static string Plain(decimal amount) => amount.ToString("0.######", CultureInfo.InvariantCulture);
}
