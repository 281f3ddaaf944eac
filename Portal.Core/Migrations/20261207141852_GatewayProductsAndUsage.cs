using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Path",
                table: "UsageEvents",
                type: "TEXT",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "RequestBytes",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ResponseBytes",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Source",
                table: "UsageEvents",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "Api");

            migrationBuilder.AddColumn<int>(
                name: "UpstreamLatencyMs",
                table: "UsageEvents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "MaxRequestBodyBytes",
                table: "Products",
                type: "INTEGER",
                nullable: false,
                defaultValue: 10485760L);

            migrationBuilder.AddColumn<string>(
                name: "UpstreamCredentialHeader",
                table: "Products",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "UpstreamCredentialProtected",
                table: "Products",
                type: "TEXT",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "UpstreamTimeoutSeconds",
                table: "Products",
                type: "INTEGER",
                nullable: false,
                defaultValue: 30);

            // Events from before: those with an outcome are key verifications, the rest calls of the API.
            migrationBuilder.Sql("UPDATE UsageEvents SET Source = 'Verification' WHERE Outcome IS NOT NULL;");
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
