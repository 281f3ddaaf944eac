using System.Globalization;
using System.Text;

namespace Portal.Web.Infrastructure;

/// <summary>One column of a CSV export: its header and how a row gives its cell.</summary>
public sealed record CsvColumn<T>(string Header, Func<T, string?> Value);

/// <summary>
/// CSV exports (RFC 4180): a header row, CRLF line ends, a cell quoted when it holds a comma, a quote or a line break
/// (its quotes doubled), times in UTC ISO 8601. A text cell starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab
/// or a carriage return gets a leading <c>'</c>, so a spreadsheet shows it as text instead of running it as a formula.
/// </summary>
public static class Csv
{
    public const string ContentType = "text/csv; charset=utf-8";

    /// <summary>The rows are written as they come and flushed every this many, so the download starts at once.</summary>
    public const int FlushEvery = 200;

    /// <summary><c>?format=csv</c>, or an <c>Accept</c> header that names <c>text/csv</c>.</summary>
    public static bool IsWanted(HttpRequest request, string? format)
    {
        if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase)) return true;
        if (!string.IsNullOrEmpty(format)) return false;
        return request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
    }

    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) : "";

    public static string Number(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "";

    /// <summary>One cell, neutralised and quoted as needed.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    /// <summary>The file name of an export made today: <c>request-log-2026-12-07.csv</c>.</summary>
    public static string FileName(string name, DateTimeOffset now) =>
        $"{name}-{now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}.csv";

    public static CsvFile<T> File<T>(IAsyncEnumerable<T> rows, IReadOnlyList<CsvColumn<T>> columns, string fileName) =>
        new(rows, columns, fileName);

    /// <summary>Every row written as it is read; a type of its own so a list's handler can name it in its Results&lt;…&gt;.</summary>
    public sealed class CsvFile<T>(IAsyncEnumerable<T> rows, IReadOnlyList<CsvColumn<T>> columns, string fileName) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var response = http.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = ContentType;
            // The names are ASCII letters, digits and dashes (FileName): quoted as they are, nothing to encode.
            response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}\"";
            response.Headers.CacheControl = "no-store";
            var ct = http.RequestAborted;
            await using var writer = new StreamWriter(response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
            var line = new StringBuilder();
            Write(line, columns.Select(c => c.Header));
            await writer.WriteAsync(line, ct);
            try
            {
                var n = 0;
                await foreach (var row in rows.WithCancellation(ct))
                {
                    line.Clear();
                    Write(line, columns.Select(c => c.Value(row)));
                    await writer.WriteAsync(line, ct);
                    if (++n % FlushEvery == 0) await writer.FlushAsync(ct);
                }
                await writer.FlushAsync(ct);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                // The status line has gone out: break the connection, so the client sees a cut download rather than a
                // file that looks complete.
                http.Abort();
                throw;
            }
        }

        private static void Write(StringBuilder line, IEnumerable<string?> cells)
        {
            var first = true;
            foreach (var cell in cells)
            {
                if (!first) line.Append(',');
                line.Append(Cell(cell));
                first = false;
            }
            line.Append("\r\n");
        }
    }
}
