namespace Portal.Core.Common;

/// <summary>An expected failure. Mapped to an HTTP status in one place (Portal.Web) and to a message in pages.</summary>
public abstract record Error(string Title, string Detail);

public record NotFoundError(string Detail = "The requested item does not exist.") : Error("Not found", Detail);

public record ForbiddenError(string Detail = "You are not allowed to do this.") : Error("Forbidden", Detail);

public record ConflictError(string Detail) : Error("Conflict", Detail);

/// <summary>Bad input; <see cref="Errors"/> maps a field name (camelCase, as in the API) to its messages.</summary>
public record ValidationError(IReadOnlyDictionary<string, string[]> Errors, string Detail = "One or more fields are invalid.")
    : Error("Validation failed", Detail)
{
    public static ValidationError For(string field, params string[] messages) =>
        new(new Dictionary<string, string[]> { [field] = messages });
}

public static class Errors
{
    public static readonly ForbiddenError Forbidden = new();
    public static readonly NotFoundError NotFound = new();
}

public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, Error? error)
    {
        _value = value;
        Error = error;
    }

    public Error? Error { get; }

    public bool IsSuccess => Error is null;

    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"Result is a failure: {Error}");

    public static implicit operator Result<T>(T value) => new(value, null);

    public static implicit operator Result<T>(Error error) => new(default, error);

    public TOut Match<TOut>(Func<T, TOut> success, Func<Error, TOut> failure) =>
        IsSuccess ? success(_value!) : failure(Error!);
}

/// <summary>For operations that return nothing on success.</summary>
public readonly record struct Unit
{
    public static readonly Unit Value = default;
}

/// <summary>
/// Rows read from the database as they are enumerated, for an export: a class (a <see cref="Result{T}"/> cannot hold an
/// interface by conversion), enumerable once.
/// </summary>
public sealed class RowStream<T>(IAsyncEnumerable<T> rows) : IAsyncEnumerable<T>
{
    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) => rows.GetAsyncEnumerator(cancellationToken);
}
