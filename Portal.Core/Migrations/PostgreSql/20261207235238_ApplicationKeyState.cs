using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class ApplicationKeyState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys",
                columns: new[] { "ApplicationId", "RevokedAt", "ExpiresAt" },
                filter: "\"ApplicationId\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys",
                column: "ApplicationId",
                filter: "\"ApplicationId\" IS NOT NULL");
        }
    }
}
