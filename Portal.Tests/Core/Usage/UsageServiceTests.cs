using Portal.Core.Common;
using Portal.Core.Features.Usage;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Usage;

public sealed class UsageServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private UsageSeed _seed = null!;

    private UsageService Usage => _db.Get<UsageService>();

    public async ValueTask InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _seed = await UsageSeed.CreateAsync(_db.Services, await _db.RootAsync(), async _ => (await _db.CreateUserAsync(Roles.Developer)).Actor);
    }

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    /// <summary>The 24 whole hours ending with the clock's hour (09:00): the keys were made at 09:00, so they count as issued.</summary>
    private UsageSummaryQuery LastDay => new() { From = _seed.Now.AddHours(-23), To = _seed.Now.AddHours(1) };

    [Fact]
    public async Task Summary_ForAnAdmin_CountsEveryonesCallsErrorsVerificationsAndKeys_Exactly()
    {
        await _seed.WriteStandardUsageAsync();

        var summary = (await Usage.SummaryAsync(_seed.Admin, LastDay)).Value;

        Assert.Equal("hour", summary.Interval);
        Assert.Equal(10, summary.Calls);
        Assert.Equal(2, summary.Errors);
        Assert.Equal(0.2, summary.ErrorRate);
        Assert.Equal(6, summary.Verifications.Total);
        Assert.Equal(3, summary.Verifications.Valid);
        Assert.Equal(3, summary.Verifications.Invalid);
        Assert.Equal([new OutcomeCount("VALID", 3), new OutcomeCount("NOT_FOUND", 1), new OutcomeCount("NOT_SUBSCRIBED", 1), new OutcomeCount("RATE_LIMITED", 1)],
            summary.Verifications.ByCode);
        // The admin's, D's, and the first keys of applications A and B, all made at 09:00 and active.
        Assert.Equal(new KeyTotals(4, 4), summary.Keys);
        Assert.Equal([("App A", 3L), ("App B", 2L)], summary.TopApplications.Select(t => (t.Name, t.Calls)));
        Assert.Equal([(_seed.Product.Name, 5L)], summary.TopProducts.Select(t => (t.Name, t.Calls)));
        Assert.Equal([3L, 3L, 2L, 2L], summary.TopKeys.Select(t => t.Calls));
        Assert.Equal(new HashSet<(Guid, long)> { (_seed.AdminKey, 3), (_seed.AppAKey, 3), (_seed.DeveloperDKey, 2), (_seed.AppBKey, 2) },
            summary.TopKeys.Select(t => (t.Id, t.Calls)).ToHashSet());
        Assert.Contains(summary.TopKeys, k => k.Id == _seed.AppAKey && k.Name == "App A key");
    }

    [Fact]
    public async Task Summary_Series_IsZeroFilledHourByHour_AndSumsToTheTotals()
    {
        await _seed.WriteStandardUsageAsync();

        var summary = (await Usage.SummaryAsync(_seed.Admin, LastDay)).Value;

        Assert.Equal(24, summary.Series.Count);
        Assert.Equal(_seed.Now.AddHours(-23), summary.Series[0].Start);
        Assert.Equal(_seed.Now, summary.Series[^1].Start);
        Assert.All(summary.Series.Zip(summary.Series.Skip(1)), p => Assert.Equal(TimeSpan.FromHours(1), p.Second.Start - p.First.Start));
        Assert.Equal(new UsageSeriesPoint(_seed.Now.AddHours(-2), 3, 1), summary.Series[^3]);
        Assert.Equal(new UsageSeriesPoint(_seed.Now.AddHours(-1), 7, 1), summary.Series[^2]);
        Assert.Equal(22, summary.Series.Count(p => p.Calls == 0 && p.Errors == 0));
        Assert.Equal(summary.Calls, summary.Series.Sum(p => p.Calls));
    }

    [Fact]
    public async Task Summary_OverAWeek_IsPerDay_WidenedToWholeDays()
    {
        await _seed.WriteStandardUsageAsync();
        var today = new DateTimeOffset(_seed.Now.UtcDateTime.Date, TimeSpan.Zero);

        var summary = (await Usage.SummaryAsync(_seed.Admin, new UsageSummaryQuery { From = today.AddDays(-6).AddHours(5), To = _seed.Now })).Value;

        Assert.Equal("day", summary.Interval);
        Assert.Equal(today.AddDays(-6), summary.From);
        Assert.Equal(today.AddDays(1), summary.To);
        Assert.Equal(7, summary.Series.Count);
        Assert.Equal(1, summary.Series.Single(p => p.Start == today.AddDays(-3)).Calls);
        Assert.Equal(10, summary.Series[^1].Calls);
        Assert.Equal(11, summary.Calls);
    }

    [Fact]
    public async Task Calls_AreTheSummarysSeriesAndTotals_WithTheSameScopeWindowAndChecks()
    {
        await _seed.WriteStandardUsageAsync();
        var today = new DateTimeOffset(_seed.Now.UtcDateTime.Date, TimeSpan.Zero);
        UsageSummaryQuery[] windows = [LastDay, new() { From = today.AddDays(-6), To = _seed.Now }, new()];

        foreach (var actor in new[] { _seed.Admin, _seed.DeveloperD, _seed.DeveloperE })
            foreach (var window in windows)
            {
                var summary = (await Usage.SummaryAsync(actor, window)).Value;
                var calls = (await Usage.CallsAsync(actor, window)).Value;
                Assert.Equal(summary.ToCalls() with { Series = [] }, calls with { Series = [] });
                Assert.Equal(summary.Series, calls.Series);
            }
        Assert.Equal(5, (await Usage.CallsAsync(_seed.DeveloperD, LastDay)).Value.Calls);
        Assert.Equal(11, (await Usage.CallsAsync(_seed.Admin, new UsageSummaryQuery())).Value.Calls);

        var app = new Actor(Guid.Empty, "app", [], []) { ApplicationId = _seed.AppA.Id };
        Assert.IsType<ForbiddenError>((await Usage.CallsAsync(app, LastDay)).Error);
        Assert.Contains("to", Assert.IsType<ValidationError>((await Usage.CallsAsync(_seed.Admin, new UsageSummaryQuery { From = _seed.Now, To = _seed.Now })).Error).Errors.Keys);
        Assert.Contains("to", Assert.IsType<ValidationError>((await Usage.CallsAsync(_seed.Admin,
            new UsageSummaryQuery { To = DateTimeOffset.MaxValue })).Error).Errors.Keys);
    }

    [Fact]
    public async Task Summary_ForADeveloper_CountsOnlyTheirPersonalKeyAndTheirApplications()
    {
        await _seed.WriteStandardUsageAsync();

        var summary = (await Usage.SummaryAsync(_seed.DeveloperD, LastDay)).Value;

        Assert.Equal(5, summary.Calls);
        Assert.Equal(1, summary.Errors);
        Assert.Equal(3, summary.Verifications.Total);
        Assert.Equal(2, summary.Verifications.Valid);
        Assert.Equal(new KeyTotals(2, 2), summary.Keys);
        Assert.Equal(["App A"], summary.TopApplications.Select(t => t.Name));
        Assert.Equal([(_seed.Product.Name, 3L)], summary.TopProducts.Select(t => (t.Name, t.Calls)));
        Assert.Equal([_seed.AppAKey, _seed.DeveloperDKey], summary.TopKeys.Select(t => t.Id));
    }

    [Fact]
    public async Task Summary_WithNoUsage_IsAllZeros_NotAnError()
    {
        var summary = (await Usage.SummaryAsync(_seed.DeveloperE, new UsageSummaryQuery())).Value;

        Assert.Equal(0, summary.Calls);
        Assert.Equal(0, summary.ErrorRate);
        Assert.Equal("day", summary.Interval);
        Assert.All(summary.Series, p => Assert.Equal(0, p.Calls));
        Assert.Empty(summary.TopKeys);
    }

    [Theory]
    [InlineData(0, "to")]
    [InlineData(-5, "to")]
    [InlineData(367 * 24, "from")]
    public async Task Summary_WithToNotAfterFrom_OrOverAYear_IsAValidationError(int hours, string field)
    {
        var result = await Usage.SummaryAsync(_seed.Admin, new UsageSummaryQuery { From = _seed.Now.AddHours(-hours), To = _seed.Now });
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Contains(field, error.Errors.Keys);
    }

    [Theory]
    [InlineData("0001-01-03T00:00:00Z", null, "to")]
    [InlineData("9999-12-31T23:59:59Z", null, "to")]
    [InlineData("9999-12-31T23:59:59Z", "9999-12-30T00:00:00Z", "from")]
    [InlineData("2026-01-01T00:00:00Z", "1999-12-31T00:00:00Z", "from")]
    public async Task Summary_AndRequests_WithATimeOutsideTheYears2000To9000_AreValidationErrorsNamingIt(string to, string? from, string field)
    {
        DateTimeOffset? At(string? text) => text is null ? null : DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var summary = await Usage.SummaryAsync(_seed.Admin, new UsageSummaryQuery { From = At(from), To = At(to) });
        Assert.Contains(field, Assert.IsType<ValidationError>(summary.Error).Errors.Keys);
        var requests = await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { From = At(from), To = At(to) });
        Assert.Contains(field, Assert.IsType<ValidationError>(requests.Error).Errors.Keys);
    }

    [Fact]
    public async Task Usage_ForAnApplicationKey_IsForbidden()
    {
        var app = new Actor(Guid.Empty, "app", [], []) { ApplicationId = _seed.AppA.Id };
        Assert.IsType<ForbiddenError>((await Usage.SummaryAsync(app, new UsageSummaryQuery())).Error);
        Assert.IsType<ForbiddenError>((await Usage.ListRequestsAsync(app, new UsageRequestQuery())).Error);
    }

    [Fact]
    public async Task Requests_ForAnAdmin_AreEveryEvent_NewestFirst_WithNames()
    {
        await _seed.WriteStandardUsageAsync();

        var page = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { PageSize = 5 })).Value;

        // The unknown key's NOT_FOUND is counted per minute (UsageRefusalMinutes), not logged as a row.
        Assert.Equal(11, page.Total);
        Assert.Equal(5, page.Items.Count);
        Assert.True(page.Items.Zip(page.Items.Skip(1)).All(p => p.First.At >= p.Second.At));
        var valid = page.Items.First(i => i.KeyId == _seed.AppAKey);
        Assert.Equal(("App A key", "App A", _seed.Product.Name, "POST"), (valid.KeyName, valid.ApplicationName, valid.ProductName, valid.Method));
        var last = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Page = 2, PageSize = 10 })).Value;
        Assert.Equal(("/api/v1/me", "admin reporting"), (last.Items.Single().Route, last.Items.Single().KeyName));
    }

    [Theory]
    [InlineData("404", 1)]
    [InlineData("5xx", 1)]
    [InlineData("4XX", 1)]
    [InlineData("error", 2)]
    [InlineData("2xx", 9)]
    [InlineData(" 200 ", 9)]
    public async Task Requests_FilteredByStatus_CodeClassOrError(string status, int expected)
    {
        await _seed.WriteStandardUsageAsync();
        var page = (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Status = status })).Value;
        Assert.Equal(expected, page.Total);
    }

    [Fact]
    public async Task Requests_FilteredByKeyApplicationProductTimeAndRoute()
    {
        await _seed.WriteStandardUsageAsync();
        async Task<int> Total(UsageRequestQuery q) => (await Usage.ListRequestsAsync(_seed.Admin, q)).Value.Total;

        Assert.Equal(4, await Total(new() { KeyId = _seed.AdminKey }));
        Assert.Equal(3, await Total(new() { ApplicationId = _seed.AppA.Id }));
        Assert.Equal(5, await Total(new() { ProductId = _seed.Product.Id }));
        Assert.Equal(10, await Total(new() { From = _seed.Now.AddDays(-1) }));
        Assert.Equal(1, await Total(new() { To = _seed.Now.AddDays(-1) }));
        Assert.Equal(3, await Total(new() { From = _seed.Now.AddHours(-3), To = _seed.Now.AddMinutes(-90) }));
        Assert.Equal(2, await Total(new() { Search = "applications" }));
        Assert.Equal(1, await Total(new() { KeyId = _seed.AdminKey, Status = "500" }));
    }

    [Theory]
    [InlineData("applications", 2)]
    [InlineData("APPLICATIONS", 2)]
    [InlineData(" /Api/V1/Me ", 1)]
    [InlineData("Users", 2)]
    public async Task Requests_SearchedByRoute_IgnoreCase(string search, int expected)
    {
        await _seed.WriteStandardUsageAsync();
        Assert.Equal(expected, (await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Search = search })).Value.Total);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("6xx")]
    [InlineData("99")]
    [InlineData("1000")]
    public async Task Requests_WithAnUnknownStatus_IsAValidationErrorOnStatus(string status)
    {
        var error = Assert.IsType<ValidationError>((await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { Status = status })).Error);
        Assert.Contains("status", error.Errors.Keys);
    }

    [Fact]
    public async Task Requests_WithPageSizeOver200_OrToBeforeFrom_AreValidationErrors()
    {
        Assert.Contains("pageSize", Assert.IsType<ValidationError>((await Usage.ListRequestsAsync(_seed.Admin, new UsageRequestQuery { PageSize = 201 })).Error).Errors.Keys);
        Assert.Contains("to", Assert.IsType<ValidationError>((await Usage.ListRequestsAsync(_seed.Admin,
            new UsageRequestQuery { From = _seed.Now, To = _seed.Now.AddHours(-1) })).Error).Errors.Keys);
    }

    [Fact]
    public async Task Requests_ForADeveloper_AreOnlyTheirs_AndAnothersRequestIsNotFound()
    {
        await _seed.WriteStandardUsageAsync();

        var mine = (await Usage.ListRequestsAsync(_seed.DeveloperD, new UsageRequestQuery())).Value;
        Assert.Equal(5, mine.Total);
        Assert.All(mine.Items, i => Assert.True(i.KeyId == _seed.DeveloperDKey || i.ApplicationId == _seed.AppA.Id));
        // Filtering by someone else's application finds nothing rather than their calls.
        Assert.Equal(0, (await Usage.ListRequestsAsync(_seed.DeveloperD, new UsageRequestQuery { ApplicationId = _seed.AppB.Id })).Value.Total);

        var theirs = (await Usage.ListRequestsAsync(_seed.DeveloperE, new UsageRequestQuery())).Value.Items;
        Assert.Equal(2, theirs.Count);
        Assert.IsType<NotFoundError>((await Usage.GetRequestAsync(_seed.DeveloperD, theirs[0].Id)).Error);
        // The detail is the list's row plus its explanation (computed for one request only, never for a page).
        Assert.Equal(theirs[0], (await Usage.GetRequestAsync(_seed.DeveloperE, theirs[0].Id)).Value with { Explanation = null });
        Assert.Equal(theirs[0], (await Usage.GetRequestAsync(_seed.Admin, theirs[0].Id)).Value with { Explanation = null });
        Assert.IsType<NotFoundError>((await Usage.GetRequestAsync(_seed.Admin, long.MaxValue)).Error);
    }

    [Fact]
    public async Task ReadOnly_SeesEveryonesUsage_AKeyNeedsTheReadScope()
    {
        await _seed.WriteStandardUsageAsync();
        var (_, readOnly) = await _db.CreateUserAsync(Roles.ReadOnly);
        Assert.Equal(10, (await Usage.SummaryAsync(readOnly, LastDay)).Value.Calls);

        var writeOnly = readOnly with { Scopes = [Scopes.Write] };
        Assert.IsType<ForbiddenError>((await Usage.SummaryAsync(writeOnly, LastDay)).Error);
        var developerReadKey = _seed.DeveloperD with { Scopes = [Scopes.Read] };
        Assert.Equal(5, (await Usage.SummaryAsync(developerReadKey, LastDay)).Value.Calls);
    }
}
