using Microsoft.EntityFrameworkCore;

namespace Portal.Core.Data;

/// <summary>
/// Search by part of a name ("4242" finds "App 14242") without reading the table: a trigram index per searched column,
/// FTS5 with the <c>trigram</c> tokenizer on SQLite (tables <c>…Search</c> kept by triggers) and <c>pg_trgm</c> GIN
/// indexes on <c>lower(column)</c> on PostgreSQL (migration <c>NameSearch</c>). Each method answers the ids of the rows
/// whose column contains the term, case-insensitively, as a subquery a list composes with its filters and sort; null
/// when the term is too short for a trigram (under three characters), where the list falls back to reading its rows.
/// </summary>
internal static class NameSearch
{
    /// <summary>A trigram index finds nothing shorter.</summary>
    public const int MinLength = 3;

    public static IQueryable<Guid>? Applications(PortalDbContext db, string term) => Ids(db, term, "Applications", "Name");

    public static IQueryable<Guid>? Accounts(PortalDbContext db, string term) => Ids(db, term, "Accounts", "Name");

    /// <summary>Users by email or display name.</summary>
    public static IQueryable<Guid>? Users(PortalDbContext db, string term) => Ids(db, term, "AspNetUsers", "Email", "DisplayName");

    /// <summary>Keys by name or description.</summary>
    public static IQueryable<Guid>? ApiKeys(PortalDbContext db, string term) => Ids(db, term, "ApiKeys", "Name", "Description");

    private static IQueryable<Guid>? Ids(PortalDbContext db, string term, string table, params string[] columns)
    {
        term = term.Trim();
        if (term.EnumerateRunes().Count() < MinLength) return null;
        if (db.Database.IsSqlite())
        {
            // One phrase of the whole term, in every column of the search table: the trigram tokenizer matches it
            // anywhere in the text, any case. Table and column names are constants of this class, never input; the
            // term is a parameter.
            var phrase = "\"" + term.Replace("\"", "\"\"") + "\"";
            var sql = $$"""SELECT "Id" AS "Value" FROM "{{table}}" WHERE rowid IN (SELECT rowid FROM "{{table}}Search" WHERE "{{table}}Search" MATCH {0})""";
            return db.Database.SqlQueryRaw<Guid>(sql, phrase);
        }
        var pattern = "%" + EscapeLike(term.ToLowerInvariant()) + "%";
        var where = string.Join(" OR ", columns.Select(c => $$"""lower("{{c}}") LIKE {0}"""));
        var like = $"""SELECT "Id" AS "Value" FROM "{table}" WHERE {where}""";
        return db.Database.SqlQueryRaw<Guid>(like, pattern);
    }

    // PostgreSQL's LIKE escapes with a backslash by default.
    private static string EscapeLike(string text) => text.Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_");
}
