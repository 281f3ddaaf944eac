using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Data;
using Portal.Core.Domain;

namespace Portal.Tests.Support;

/// <summary>
/// Records the SQL a service runs (register with <see cref="Register"/>) and asks SQLite how it would run each
/// (<c>EXPLAIN QUERY PLAN</c> with the same parameters): for tests that a list is read through an index.
/// </summary>
public sealed class QueryPlans : DbCommandInterceptor
{
    private readonly ConcurrentQueue<(string Sql, (string Name, object Value)[] Parameters)> _commands = new();

    public void Register(IServiceCollection services) =>
        services.ConfigureDbContext<PortalDbContext>(o => o.AddInterceptors(this));

    public void Clear() => _commands.Clear();

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command) =>
        _commands.Enqueue((command.CommandText, [.. command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, p.Value ?? DBNull.Value))]));

    /// <summary>Each recorded query that reads the table, with its plan's lines (the "detail" column), in order.</summary>
    public async Task<List<(string Sql, List<string> Plan)>> PlansAsync(string connectionString, string table)
    {
        var plans = new List<(string, List<string>)>();
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        foreach (var (sql, parameters) in _commands.Where(c => c.Sql.Contains($"\"{table}\"", StringComparison.Ordinal)))
        {
            await using var explain = connection.CreateCommand();
            explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
            foreach (var (name, value) in parameters) explain.Parameters.AddWithValue(name, value);
            var lines = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
                while (await reader.ReadAsync()) lines.Add(reader.GetString(3));
            plans.Add((sql, lines));
        }
        return plans;
    }
}
