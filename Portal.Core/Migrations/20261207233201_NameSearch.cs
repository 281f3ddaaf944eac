using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <summary>
    /// Search by part of a name without reading the table (<c>NameSearch</c>): an FTS5 table with the trigram tokenizer
    /// over each searched table, holding no copy of the text (external content, joined by rowid) and kept by triggers.
    /// A later migration that rebuilds one of these tables (SQLite's way of altering a column) drops its triggers and may
    /// renumber its rows: it re-creates the triggers below and runs the table's 'rebuild' again.
    /// </summary>
    public partial class NameSearch : Migration
    {
        private static readonly (string Table, string[] Columns)[] Searched =
        [
            ("Applications", ["Name"]),
            ("Accounts", ["Name"]),
            ("ApiKeys", ["Name", "Description"]),
            ("AspNetUsers", ["Email", "DisplayName"]),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, columns) in Searched)
            {
                var search = table + "Search";
                var list = string.Join(", ", columns.Select(c => $"\"{c}\""));
                var values = (string prefix) => string.Join(", ", columns.Select(c => $"{prefix}.\"{c}\""));
                migrationBuilder.Sql($"""CREATE VIRTUAL TABLE "{search}" USING fts5({list}, content='{table}', content_rowid='rowid', tokenize='trigram');""");
                migrationBuilder.Sql($"""INSERT INTO "{search}"("{search}") VALUES ('rebuild');""");
                migrationBuilder.Sql($"""
                    CREATE TRIGGER "{search}_Insert" AFTER INSERT ON "{table}" BEGIN
                        INSERT INTO "{search}"(rowid, {list}) VALUES (new.rowid, {values("new")});
                    END;
                    """);
                migrationBuilder.Sql($"""
                    CREATE TRIGGER "{search}_Delete" AFTER DELETE ON "{table}" BEGIN
                        INSERT INTO "{search}"("{search}", rowid, {list}) VALUES ('delete', old.rowid, {values("old")});
                    END;
                    """);
                // Only a change of a searched column: keys' last-used stamps and the like never touch the index.
                migrationBuilder.Sql($"""
                    CREATE TRIGGER "{search}_Update" AFTER UPDATE OF {list} ON "{table}" BEGIN
                        INSERT INTO "{search}"("{search}", rowid, {list}) VALUES ('delete', old.rowid, {values("old")});
                        INSERT INTO "{search}"(rowid, {list}) VALUES (new.rowid, {values("new")});
                    END;
                    """);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, _) in Searched)
            {
                var search = table + "Search";
                migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{search}_Insert";""");
                migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{search}_Delete";""");
                migrationBuilder.Sql($"""DROP TRIGGER IF EXISTS "{search}_Update";""");
                migrationBuilder.Sql($"""DROP TABLE IF EXISTS "{search}";""");
            }
        }
    }
}
