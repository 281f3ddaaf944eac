using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class UsageIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ApplicationId_At",
                table: "UsageEvents",
                columns: new[] { "ApplicationId", "At" },
                filter: "\"ApplicationId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ProductId_At",
                table: "UsageEvents",
                columns: new[] { "ProductId", "At" },
                filter: "\"ProductId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_Verifications",
                table: "UsageEvents",
                columns: new[] { "At", "Outcome", "ProductId" },
                filter: "\"Outcome\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ApplicationId_At",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ProductId_At",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_Verifications",
                table: "UsageEvents");
        }
    }
}
