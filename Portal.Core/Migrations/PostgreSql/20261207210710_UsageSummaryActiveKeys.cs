using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class UsageSummaryActiveKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_State",
                table: "ApiKeys",
                columns: new[] { "RevokedAt", "ExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_State",
                table: "ApiKeys");
        }
    }
}
