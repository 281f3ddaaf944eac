using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Usage;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Usage;

public sealed partial class UsagePage : IDisposable
{
    [Inject] private UsageService Usage { get; set; } = default!;
    [Inject] private UsageRecorder Recorder { get; set; } = default!;
    [Inject] private PersistentComponentState ApplicationState { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    /// <summary>The period shown (<c>24h</c>, <c>7d</c>, <c>30d</c>); 7 days when absent. Choosing one puts it here, so a view can be bookmarked.</summary>
    [SupplyParameterFromQuery(Name = "period")] public string? Period { get; set; }

    private sealed record Card(string Name, string Title, string Value, string Text, string Icon, Color Color = Color.Primary);

    private UsagePeriod _period = UsagePeriod.Week;
    private bool _loaded;
    private UsageSummary? _summary;
    private string? _error;
    private List<ChartSeries<double>> _outcomeSeries = [];
    private string[] _outcomeLabels = [];
    private DonutChartOptions _outcomeOptions = new();

    private string Scope => Actor?.Can(Permission.UsageReadAll) == true
        ? "Every API call and key verification in this portal."
        : "Calls with your personal API keys and your applications' keys, and verifications of those keys.";

    /// <summary>The summary the prerender loaded, handed to the interactive render so it does not count it again.</summary>
    public const string PersistedSummaryKey = "usage-summary";

    /// <summary>What the prerender hands over: the summary and the period it is of.</summary>
    public sealed record PersistedSummary(string Period, UsageSummary Summary);

    private PersistingComponentStateSubscription _persisting;

    /// <summary>Usage events this instance dropped since it started (its queue was full): the overview misses them.</summary>
    private long _dropped;

    protected override async Task OnInitializedAsync()
    {
        _dropped = Recorder.Dropped;
        _persisting = ApplicationState.RegisterOnPersisting(() =>
        {
            if (_summary is not null) ApplicationState.PersistAsJson(PersistedSummaryKey, new PersistedSummary(_period.Key, _summary));
            return Task.CompletedTask;
        });
    }

    public void Dispose() => _persisting.Dispose();

    /// <summary>Loads on the first render and whenever the address names another period (back, forward, a link).</summary>
    protected override async Task OnParametersSetAsync()
    {
        var wanted = UsagePeriod.Parse(Period);
        if (_loaded && wanted == _period) return;
        _period = wanted;
        _loaded = true;
        await LoadAsync();
    }

    private async Task OnPeriodChangedAsync(string? key)
    {
        var chosen = UsagePeriod.Parse(key);
        if (chosen == _period) return;
        _period = chosen;
        // Into the address (replacing it: the back button leaves the overview rather than stepping through periods).
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("period", chosen.Key), replace: true);
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _summary = null;
        // Once per visit: the interactive render takes what the prerender loaded for the same period (once; a later
        // period, or the same one chosen again, loads afresh).
        if (ApplicationState.TryTakeFromJson<PersistedSummary>(PersistedSummaryKey, out var persisted) && persisted?.Period == _period.Key)
        {
            Show(persisted.Summary);
            return;
        }
        var result = await Usage.SummaryAsync(Actor, _period.QueryAt(Clock.GetUtcNow()));
        if (!result.IsSuccess)
        {
            _error = result.Error!.Detail;
            return;
        }
        Show(result.Value);
    }

    private void Show(UsageSummary summary)
    {
        _error = null;
        _summary = summary;
        var codes = _summary.Verifications.ByCode;
        _outcomeSeries = [new ChartSeries<double> { Name = "Verifications", Data = new ChartData<double>([.. codes.Select(c => (double)c.Count)]) }];
        _outcomeLabels = [.. codes.Select(c => c.Code)];
        _outcomeOptions = new DonutChartOptions { ChartPalette = [.. codes.Select(c => OutcomeColors.Hex(c.Code))] };
    }

    public static string Percent(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private IEnumerable<Card> Cards()
    {
        var s = _summary;
        string Count(long? n) => n?.ToString("N0") ?? "–";
        return
        [
            new("calls", "API calls", Count(s?.Calls), s is null ? "" : $"in the last {_period.Label}", Icons.Material.Filled.ShowChart),
            new("error-rate", "Error rate", s is null ? "–" : Percent(s.ErrorRate), s is null ? "" : $"{Count(s.Errors)} answered 4xx or 5xx",
                Icons.Material.Filled.ErrorOutline, s?.ErrorRate > 0.05 ? Color.Error : Color.Success),
            new("verifications", "Verifications", s is null ? "–" : $"{Count(s.Verifications.Valid)} / {Count(s.Verifications.Invalid)}", "valid / invalid",
                Icons.Material.Filled.VerifiedUser, s?.Verifications.Invalid > 0 ? Color.Warning : Color.Success),
            new("keys", "Keys", s is null ? "–" : $"{Count(s.Keys.Issued)} / {Count(s.Keys.Active)}", "issued in period / active now", Icons.Material.Filled.VpnKey),
        ];
    }
}
