using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
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
                type: "character varying(45)",
                maxLength: 45,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "LimitResetAt",
                table: "UsageEvents",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LimitUsed",
                table: "UsageEvents",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "LimitValue",
                table: "UsageEvents",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "UserAgent",
                table: "UsageEvents",
                type: "character varying(256)",
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
