using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class PlanPrices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Currency",
                table: "Plans",
                type: "character varying(3)",
                maxLength: 3,
                nullable: false,
                defaultValue: "USD");

            migrationBuilder.AddColumn<decimal>(
                name: "FlatFee",
                table: "Plans",
                type: "numeric(18,6)",
                precision: 18,
                scale: 6,
                nullable: true);

            migrationBuilder.AddColumn<decimal>(
                name: "MonthlyMinimum",
                table: "Plans",
                type: "numeric(18,6)",
                precision: 18,
                scale: 6,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PriceUnit",
                table: "Plans",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<string>(
                name: "TierMode",
                table: "Plans",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Graduated");

            migrationBuilder.AddColumn<decimal>(
                name: "UnitPrice",
                table: "Plans",
                type: "numeric(18,6)",
                precision: 18,
                scale: 6,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_QuotaCounters_Billing",
                table: "QuotaCounters",
                columns: new[] { "PeriodStart", "SubscriptionId", "Used" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_QuotaCounters_Billing",
                table: "QuotaCounters");

            migrationBuilder.DropColumn(
                name: "Currency",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "FlatFee",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "MonthlyMinimum",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "PriceUnit",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "TierMode",
                table: "Plans");

            migrationBuilder.DropColumn(
                name: "UnitPrice",
                table: "Plans");
        }
    }
}
