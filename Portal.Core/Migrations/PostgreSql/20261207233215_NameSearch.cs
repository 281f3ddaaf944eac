using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <summary>
    /// Search by part of a name without reading the table (<c>NameSearch</c>): a pg_trgm GIN index on the lower-cased
    /// text of each searched column, which serves <c>lower(column) LIKE '%term%'</c>. pg_trgm is a trusted extension:
    /// the database's owner may create it without being a superuser.
    /// </summary>
    public partial class NameSearch : Migration
    {
        private static readonly (string Table, string Column)[] Searched =
        [
            ("Applications", "Name"),
            ("Accounts", "Name"),
            ("ApiKeys", "Name"),
            ("ApiKeys", "Description"),
            ("AspNetUsers", "Email"),
            ("AspNetUsers", "DisplayName"),
        ];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");
            foreach (var (table, column) in Searched)
                migrationBuilder.Sql($"""CREATE INDEX "IX_{table}_{column}_Trigrams" ON "{table}" USING gin (lower("{column}") gin_trgm_ops);""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var (table, column) in Searched)
                migrationBuilder.Sql($"""DROP INDEX IF EXISTS "IX_{table}_{column}_Trigrams";""");
        }
    }
}
