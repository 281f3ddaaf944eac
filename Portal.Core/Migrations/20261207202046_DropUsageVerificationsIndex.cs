using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class DropUsageVerificationsIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_Verifications",
                table: "UsageEvents");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_Verifications",
                table: "UsageEvents",
                columns: new[] { "At", "Outcome", "ProductId" },
                filter: "\"Outcome\" IS NOT NULL");
        }
    }
}
