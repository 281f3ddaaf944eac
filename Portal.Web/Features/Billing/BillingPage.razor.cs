using System.Globalization;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Portal.Core.Common;
using Portal.Core.Features.Billing;
using Portal.Web.Features.Exports;
using Portal.Web.Infrastructure;

namespace Portal.Web.Features.Billing;

public sealed partial class BillingPage
{
    private const int PageSize = 50;

    /// <summary>How far back the month picker reaches.</summary>
    private const int MonthsShown = 13;

    [CascadingParameter]
    private Actor Actor { get; set; } = default!;

    [Inject] private StatementService Statements { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private bool _seesAll;
    private bool _canReissue;
    private string _month = "";
    private int _page = 1;
    private bool _loading;
    private bool _statementLoading;
    private string? _error;
    private MonthOverview? _overview;
    private PagedResult<StatementSummary>? _accounts;
    private StatementDto? _statement;

    /// <summary>The latest statement asked for: a row's click and its button's click both ask, and a slower earlier answer must not win.</summary>
    private int _statementRequest;

    private IReadOnlyList<string> Months
    {
        get
        {
            var current = BillableUsage.MonthStart(Clock.GetUtcNow());
            return [.. Enumerable.Range(0, MonthsShown).Select(i => BillingMonth.Name(current.AddMonths(-i)))];
        }
    }

    private string ExportHref => ExportEndpoints.Link(ExportEndpoints.BillingStatements, [new("month", _month)]);

    private static string MonthLabel(string month) =>
        BillingMonth.Parse(month) is { } start ? start.UtcDateTime.ToString("MMMM yyyy", CultureInfo.InvariantCulture) : month;

    private static string TotalsText(IReadOnlyList<CurrencyTotal> totals) =>
        totals.Count == 0 ? "—" : string.Join(" · ", totals.Select(t => Money.Format(t.Amount, t.Currency)));

    protected override async Task OnInitializedAsync()
    {
        _seesAll = Actor.Can(Permission.UsageReadAll);
        _canReissue = Actor.Can(Permission.SubscriptionsManage);
        _month = BillingMonth.Name(Clock.GetUtcNow());
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _loading = true;
        _error = null;
        try
        {
            var query = new StatementQuery { Month = _month, Page = _page, PageSize = PageSize };
            if (_seesAll)
            {
                var overview = await Statements.OverviewAsync(Actor, query);
                if (!overview.IsSuccess)
                {
                    _error = overview.Error!.Detail;
                    return;
                }
                _overview = overview.Value;
            }
            var accounts = await Statements.ListAsync(Actor, query);
            if (!accounts.IsSuccess)
            {
                _error = accounts.Error!.Detail;
                return;
            }
            _accounts = accounts.Value;
            // A developer with one account sees its statement at once; otherwise the one looked at stays open if it is listed.
            var keep = _statement?.AccountId is { } shown && _accounts.Items.Any(a => a.AccountId == shown) ? shown : (Guid?)null;
            _statement = null;
            if (keep is { } id) await SelectAsync(id);
            else if (!_seesAll && _accounts.Items.Count == 1) await SelectAsync(_accounts.Items[0].AccountId);
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task SelectAsync(Guid accountId)
    {
        var request = ++_statementRequest;
        _statementLoading = true;
        try
        {
            var result = await Statements.GetAsync(Actor, accountId, _month);
            if (request != _statementRequest) return;
            if (result.IsSuccess) _statement = result.Value;
            else Snackbar.Add(result.Error!.Detail, Severity.Error);
        }
        finally
        {
            if (request == _statementRequest) _statementLoading = false;
        }
    }

    private async Task OnMonthChanged(string month)
    {
        _month = month;
        _page = 1;
        await LoadAsync();
    }

    private async Task OnPageChanged(int page)
    {
        _page = page;
        await LoadAsync();
    }

    private async Task ReissueAsync()
    {
        if (_statement is not { } statement) return;
        var dialog = await Dialogs.ShowAsync<ReissueStatementDialog>("Re-issue statement",
            new DialogParameters<ReissueStatementDialog>
            {
                { d => d.Actor, Actor }, { d => d.AccountId, statement.AccountId }, { d => d.AccountName, statement.AccountName }, { d => d.Month, statement.Month },
            },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        var result = await dialog.Result;
        if (result is { Canceled: false, Data: StatementDto reissued })
        {
            _statement = reissued;
            await LoadAsync();
        }
    }
}
