using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class UsageRequestDetail : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ClientAddress",
                table: "UsageEvents",
                type: "TEXT",
                maxLength: 45,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LimitResetAt",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LimitUsed",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LimitValue",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "UserAgent",
                table: "UsageEvents",
                type: "TEXT",
                maxLength: 256,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ClientAddress",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "LimitResetAt",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "LimitUsed",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "LimitValue",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "UserAgent",
                table: "UsageEvents");
        }
    }
}
