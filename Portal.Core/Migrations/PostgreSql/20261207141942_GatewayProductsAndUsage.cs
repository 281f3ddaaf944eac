using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class GatewayProductsAndUsage : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "AccountId",
                table: "UsageEvents",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Path",
                table: "UsageEvents",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "RequestBytes",
                table: "UsageEvents",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ResponseBytes",
                table: "UsageEvents",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Source",
                table: "UsageEvents",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Api");

            migrationBuilder.AddColumn<int>(
                name: "UpstreamLatencyMs",
                table: "UsageEvents",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MaxRequestBodyBytes",
                table: "Products",
                type: "bigint",
                nullable: false,
                defaultValue: 10485760L);

            migrationBuilder.AddColumn<string>(
                name: "UpstreamCredentialHeader",
                table: "Products",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "UpstreamCredentialProtected",
                table: "Products",
                type: "character varying(8000)",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "UpstreamTimeoutSeconds",
                table: "Products",
                type: "integer",
                nullable: false,
                defaultValue: 30);

            // Events from before: those with an outcome are key verifications, the rest calls of the API.
            migrationBuilder.Sql("UPDATE \"UsageEvents\" SET \"Source\" = 'Verification' WHERE \"Outcome\" IS NOT NULL;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AccountId",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "Path",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "RequestBytes",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "ResponseBytes",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "Source",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "UpstreamLatencyMs",
                table: "UsageEvents");

            migrationBuilder.DropColumn(
                name: "MaxRequestBodyBytes",
                table: "Products");

            migrationBuilder.DropColumn(
                name: "UpstreamCredentialHeader",
                table: "Products");

            migrationBuilder.DropColumn(
                name: "UpstreamCredentialProtected",
                table: "Products");

            migrationBuilder.DropColumn(
                name: "UpstreamTimeoutSeconds",
                table: "Products");
        }
    }
}
