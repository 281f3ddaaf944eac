using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Data;
using Portal.Core.Features.Usage;
using Portal.Core.Features.Users;
using Portal.Tests.Support;

namespace Portal.Tests.Web.Api;

/// <summary>
/// CSV exports of the request log, the audit log and the users: the same rows as the list with the same filters, RFC
/// 4180 with formulas neutralised, the file's headers, who may, and that the request log streams.
/// </summary>
public sealed class ExportApiTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    /// <summary>Seeded calls lie on a day well in the past: the tests' own calls (recorded too) stay outside the window.</summary>
    private static readonly DateTimeOffset Day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-3);

    private static string Iso(DateTimeOffset at) => Uri.EscapeDataString(at.UtcDateTime.ToString("O"));

    private HttpClient Admin() => factory.ClientFor(Guid.NewGuid(), "export-admin@portal.test", [Roles.Admin], [Scopes.Read]);

    /// <summary>Calls of the log written straight to the table, one a second from <paramref name="from"/>, in a window of their own.</summary>
    internal static async Task<(DateTimeOffset From, DateTimeOffset To)> SeedCallsAsync(IServiceProvider services, int count, DateTimeOffset from,
        Func<int, string>? route = null)
    {
        var dbFactory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        await using var db = await dbFactory.CreateDbContextAsync();
        for (var i = 0; i < count; i++)
            db.UsageEvents.Add(new UsageEvent
            {
                At = from.AddSeconds(i / 2), // two calls a second: ties on the time, ordered by id
                Method = i % 3 == 0 ? "POST" : "GET",
                Route = route?.Invoke(i) ?? $"/api/v1/things/{i % 7}",
                Status = (i % 5) switch { 0 => 404, 1 => 500, _ => 200 },
                LatencyMs = i % 90,
                Outcome = i % 5 == 0 ? "NOT_FOUND" : null,
                Source = UsageSource.Api,
            });
        await db.SaveChangesAsync();
        return (from, from.AddSeconds(count / 2 + 1));
    }

    /// <summary>Every page of the JSON list, following the cursor.</summary>
    private static async Task<List<JsonElement>> ListAllAsync(HttpClient client, string path)
    {
        var rows = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var body = JsonDocument.Parse(await client.GetStringAsync(path + "&pageSize=200" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)))).RootElement;
            rows.AddRange(body.GetProperty("items").EnumerateArray().Select(e => e.Clone()));
            cursor = body.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        } while (cursor is not null);
        return rows;
    }

    [Fact]
    public async Task RequestLog_Csv_EqualsTheFilteredList_RowForRow()
    {
        var (from, to) = await SeedCallsAsync(factory.Services, 3_000, Day.AddHours(1));
        var client = Admin();
        var filter = $"?status=error&from={Iso(from)}&to={Iso(to)}";

        var listed = await ListAllAsync(client, "/api/v1/usage/requests" + filter);
        var response = await client.GetAsync("/api/v1/usage/requests" + filter + "&format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csv = CsvText.Parse(await response.Content.ReadAsStringAsync());
        var header = csv[0];
        Assert.Equal(["id", "at", "source", "method", "route", "path", "status", "outcome", "latencyMs"], header.Take(9));
        var rows = csv.Skip(1).ToList();
        Assert.Equal(1_200, listed.Count); // 2 in 5 of 3,000 are errors: two batches of the export
        Assert.Equal(listed.Select(r => r.GetProperty("id").GetInt64().ToString()), rows.Select(r => r[0]));
        Assert.Equal(listed.Select(r => r.GetProperty("status").GetInt32().ToString()), rows.Select(r => r[6]));
        Assert.Equal(listed.Select(r => r.GetProperty("route").GetString()), rows.Select(r => r[4]));
        Assert.Equal(listed.Select(r => r.GetProperty("at").GetDateTimeOffset()), rows.Select(r => DateTimeOffset.Parse(r[1])));
        Assert.All(rows, r => Assert.EndsWith("Z", r[1]));
    }

    [Fact]
    public async Task RequestLog_AcceptTextCsv_IsAnAttachmentNamedForToday_InUtf8()
    {
        var (from, to) = await SeedCallsAsync(factory.Services, 10, Day.AddHours(2));
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/usage/requests?from={Iso(from)}&to={Iso(to)}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));

        var response = await Admin().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType.CharSet);
        Assert.Equal($"attachment; filename=\"request-log-{DateTime.UtcNow:yyyy-MM-dd}.csv\"", response.Content.Headers.GetValues("Content-Disposition").Single());
        var text = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("id,at,source,method,route,path,status,outcome,latencyMs,upstreamLatencyMs,requestBytes,responseBytes,keyId,keyName,applicationId,applicationName,accountId,productId,productName\r\n", text);
        Assert.Equal(11, CsvText.Parse(text).Count);
    }

    [Fact]
    public async Task Csv_NeutralisesFormulas_AndQuotesCommasQuotesAndLineBreaks()
    {
        string[] routes = ["=1+2", "+SUM(A1)", "-3", "@cmd", "\tlead", "\rlead", "a,b", "say \"hi\"", "line1\nline2", "/plain"];
        var (from, to) = await SeedCallsAsync(factory.Services, routes.Length, Day.AddHours(3), i => routes[i]);

        var text = await Admin().GetStringAsync($"/api/v1/usage/requests?from={Iso(from)}&to={Iso(to)}&format=csv");

        var cells = CsvText.Parse(text).Skip(1).Select(r => r[4]).ToHashSet();
        string[] expected = ["'=1+2", "'+SUM(A1)", "'-3", "'@cmd", "'\tlead", "'\rlead", "a,b", "say \"hi\"", "line1\nline2", "/plain"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), cells.Order(StringComparer.Ordinal));
        Assert.Contains(",\"a,b\",", text);
        Assert.Contains(",\"say \"\"hi\"\"\",", text);
        Assert.Contains(",\"line1\nline2\",", text);
        Assert.Contains(",\"'\rlead\",", text);
        Assert.Contains(",'=1+2,", text);
    }

    [Fact]
    public async Task Audit_Csv_EqualsTheFilteredList_RowForRow()
    {
        for (var i = 0; i < 3; i++)
            await factory.Get<UserService>().CreateAsync(await factory.RootAsync(),
                new CreateUser { Email = $"audit-export-{i}-{Guid.NewGuid():N}@portal.test", DisplayName = $"Audit, \"{i}\"", Password = "Passw0rd!", Roles = [Roles.Developer] });
        var client = Admin();

        var listed = JsonDocument.Parse(await client.GetStringAsync("/api/v1/audit?action=user.&pageSize=200")).RootElement.GetProperty("items")
            .EnumerateArray().ToList();
        var csv = CsvText.Parse(await client.GetStringAsync("/api/v1/audit?action=user.&format=csv"));

        Assert.Equal(["id", "at", "actorId", "actor", "action", "targetType", "targetId", "target", "details", "ipAddress"], csv[0]);
        Assert.True(listed.Count >= 3);
        Assert.Equal(listed.Select(e => e.GetProperty("id").GetGuid().ToString()), csv.Skip(1).Select(r => r[0]));
        Assert.Equal(listed.Select(e => e.GetProperty("action").GetString()), csv.Skip(1).Select(r => r[4]));
        Assert.All(csv.Skip(1), r => Assert.StartsWith("user.", r[4]));
    }

    [Fact]
    public async Task Users_Csv_EqualsTheFilteredList_WithFormulaNamesNeutralised()
    {
        var root = await factory.RootAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        foreach (var name in new[] { "=HYPERLINK(\"http://evil.test\")", "@Ada", "Plain, Name" })
            Assert.True((await factory.Get<UserService>().CreateAsync(root, new CreateUser
            {
                Email = $"csv-{tag}-{Guid.NewGuid():N}@portal.test", DisplayName = name, Password = "Passw0rd!", Roles = [Roles.ReadOnly],
            })).IsSuccess);
        var client = Admin();

        var listed = JsonDocument.Parse(await client.GetStringAsync($"/api/v1/users?search=csv-{tag}&role=read-only&pageSize=200")).RootElement.GetProperty("items")
            .EnumerateArray().ToList();
        var response = await client.GetAsync($"/api/v1/users?search=csv-{tag}&role=read-only&format=csv");
        var csv = CsvText.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal($"attachment; filename=\"users-{DateTime.UtcNow:yyyy-MM-dd}.csv\"", response.Content.Headers.GetValues("Content-Disposition").Single());
        Assert.Equal(["id", "email", "displayName", "roles", "status", "lockedOut", "createdAt", "lastLoginAt"], csv[0]);
        Assert.Equal(3, listed.Count);
        Assert.Equal(listed.Select(u => u.GetProperty("email").GetString()), csv.Skip(1).Select(r => r[1]));
        string[] names = ["'=HYPERLINK(\"http://evil.test\")", "'@Ada", "Plain, Name"];
        Assert.Equal(names.Order(StringComparer.Ordinal), csv.Skip(1).Select(r => r[2]).Order(StringComparer.Ordinal));
        Assert.All(csv.Skip(1), r => Assert.Equal("read-only", r[3]));
    }

    [Theory]
    [InlineData("/api/v1/usage/requests?format=csv")]
    [InlineData("/api/v1/audit?format=csv")]
    [InlineData("/api/v1/users?format=csv")]
    public async Task Csv_WithoutAKey_Is401(string path)
    {
        var response = await factory.CreateClient().GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/v1/audit?format=csv")]
    [InlineData("/api/v1/users?format=csv")]
    public async Task Csv_AsADeveloper_Is403(string path)
    {
        var (client, _) = await factory.ClientAsAsync(Roles.Developer, Scopes.Read);
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task RequestLog_Csv_AsADeveloper_HoldsTheirRowsOnly_AsTheListDoes()
    {
        var (client, user) = await factory.ClientAsAsync(Roles.Developer, Scopes.Read);
        var from = Day.AddHours(5);
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            db.UsageEvents.Add(new UsageEvent { At = from, Method = "GET", Route = "/mine", Status = 200, OwnerUserId = user.Id });
            db.UsageEvents.Add(new UsageEvent { At = from, Method = "GET", Route = "/theirs", Status = 200, OwnerUserId = Guid.NewGuid() });
            await db.SaveChangesAsync();
        }
        var window = $"?from={Iso(from)}&to={Iso(from.AddMinutes(1))}";

        var listed = await ListAllAsync(client, "/api/v1/usage/requests" + window);
        var csv = CsvText.Parse(await client.GetStringAsync("/api/v1/usage/requests" + window + "&format=csv"));

        Assert.Equal(["/mine"], listed.Select(r => r.GetProperty("route").GetString()));
        Assert.Equal(["/mine"], csv.Skip(1).Select(r => r[4]));
    }

    [Fact]
    public async Task Csv_BadFilter_IsAProblemNotAFile()
    {
        var response = await Admin().GetAsync("/api/v1/usage/requests?status=teapot&format=csv");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ExportPage_SignedOut_GoesToSignIn()
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.GetAsync("/exports/request-log");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery);
    }
}

/// <summary>
/// The request log's export streams: when the first row reaches the client, the server has read at most the first
/// batches of the rows from the database. A buffered export reads every batch before it sends a byte.
/// </summary>
public sealed class ExportStreamingTests : IAsyncDisposable
{
    private readonly CountedReads _reads = new();
    private readonly PortalApiFactory _app;

    public ExportStreamingTests() =>
        _app = new PortalApiFactory(DatabaseProvider.Sqlite, TestDatabase.NewConnectionString(),
            services => services.ConfigureDbContext<PortalDbContext>((_, db) => db.AddInterceptors(_reads), ServiceLifetime.Singleton));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task RequestLog_FirstRowsArrive_BeforeTheLastBatchIsRead()
    {
        var ct = TestContext.Current.CancellationToken;
        var day = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(-2);
        const int calls = 6_000; // six batches of the export
        var (from, to) = await ExportApiTests.SeedCallsAsync(_app.Services, calls, day);
        var client = _app.ClientFor(Guid.NewGuid(), "stream-admin@portal.test", [Roles.Admin], [Scopes.Read]);
        _reads.Start();

        using var response = await client.GetAsync(
            $"/api/v1/usage/requests?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}&format=csv",
            HttpCompletionOption.ResponseHeadersRead, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct), Encoding.UTF8);
        var header = await reader.ReadLineAsync(ct);
        var first = await reader.ReadLineAsync(ct);
        var readsAtFirstRow = _reads.Count;
        var rows = 1;
        using var whole = CancellationTokenSource.CreateLinkedTokenSource(ct);
        whole.CancelAfter(TimeSpan.FromSeconds(90));
        while (await reader.ReadLineAsync(whole.Token) is not null) rows++;

        Assert.StartsWith("id,at,", header);
        Assert.NotNull(first);
        Assert.Equal(calls, rows);
        // Six full batches and the empty read that ends them; the answer's buffers hold far less than a batch.
        Assert.Equal(7, _reads.Count);
        Assert.InRange(readsAtFirstRow, 1, 2);
    }

    /// <summary>Counts the reads of the request log's rows (each batch of an export is one) once started.</summary>
    private sealed class CountedReads : DbCommandInterceptor
    {
        private int _started;
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Start() => Volatile.Write(ref _started, 1);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken ct = default)
        {
            if (Volatile.Read(ref _started) == 1 && command.CommandText.Contains("FROM \"UsageEvents\"", StringComparison.Ordinal)
                && command.CommandText.Contains("ORDER BY", StringComparison.Ordinal))
                Interlocked.Increment(ref _count);
            return ValueTask.FromResult(result);
        }
    }
}

/// <summary>A small RFC 4180 reader for the tests: quoted cells with doubled quotes and line breaks, CRLF between records.</summary>
internal static class CsvText
{
    public static List<string[]> Parse(string text)
    {
        var records = new List<string[]>();
        var record = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { record.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                record.Add(cell.ToString());
                cell.Clear();
                records.Add([.. record]);
                record.Clear();
                i++;
            }
            else cell.Append(c);
        }
        if (cell.Length > 0 || record.Count > 0)
        {
            record.Add(cell.ToString());
            records.Add([.. record]);
        }
        return records;
    }
}
