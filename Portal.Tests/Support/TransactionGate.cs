using System.Data.Common;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Data;

namespace Portal.Tests.Support;

/// <summary>
/// Makes a race test race every time instead of on a lucky schedule: the calls a test starts through
/// <see cref="RunAsync{T}"/> are held at the start of their first database transaction until <c>racers</c> of them
/// have arrived, so every racer has read what it read before any of them writes. Transactions of anything else (a
/// background service, the test's own setup) pass untouched. A racer missing for <see cref="Timeout"/> releases the
/// others rather than hang the test; its assertions then tell what happened.
/// </summary>
/// <param name="meanwhile">Run once when the last racer arrives, before any goes on: a change that lands between the
/// racers' reads and their writes.</param>
public sealed class TransactionGate(int racers, Func<Task>? meanwhile = null) : DbTransactionInterceptor
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly AsyncLocal<Racer?> Racing = new();

    private readonly TaskCompletionSource _allArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    /// <summary>How many racers were held at the gate.</summary>
    public int Held => Math.Min(Volatile.Read(ref _arrived), racers);

    /// <summary>Runs <paramref name="call"/> as one racer, on a task of its own.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> call) => Task.Run(() =>
    {
        Racing.Value = new Racer(this);
        return call();
    });

    public override async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result, CancellationToken ct = default)
    {
        // Only a racer's first transaction is held (the mark is an object, so setting its flag here is seen by the
        // racer's later calls, which a value set on the AsyncLocal itself would not be).
        if (Racing.Value is not { } racer || racer.Gate != this || racer.Arrived) return result;
        racer.Arrived = true;
        var arrival = Interlocked.Increment(ref _arrived);
        if (arrival > racers) return result;
        if (arrival == racers)
        {
            if (meanwhile is not null) await meanwhile();
            _allArrived.TrySetResult();
        }
        try
        {
            await _allArrived.Task.WaitAsync(Timeout, ct);
        }
        catch (TimeoutException)
        {
            // Go on: the test's assertions say which racer never came.
        }
        return result;
    }

    /// <summary>
    /// Adds the gate to every database context the services make (either provider), and lets a racer's mark reach the
    /// request it sends when the services are a test web host's.
    /// </summary>
    public void AddTo(IServiceCollection services)
    {
        services.ConfigureDbContext<PortalDbContext>((_, db) => db.AddInterceptors(this), ServiceLifetime.Singleton);
        services.ConfigureDbContext<PostgresPortalDbContext>((_, db) => db.AddInterceptors(this), ServiceLifetime.Singleton);
        services.Configure<TestServerOptions>(o => o.PreserveExecutionContext = true);
    }

    private sealed class Racer(TransactionGate gate)
    {
        public TransactionGate Gate { get; } = gate;
        public bool Arrived { get; set; }
    }
}
