using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class RequestLogIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ApplicationId_At",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_At",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_KeyId_At",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ProductId_At",
                table: "UsageEvents");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ApplicationId_At_Id",
                table: "UsageEvents",
                columns: new[] { "ApplicationId", "At", "Id" },
                filter: "\"ApplicationId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_At_Id",
                table: "UsageEvents",
                columns: new[] { "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_KeyId_At_Id",
                table: "UsageEvents",
                columns: new[] { "KeyId", "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_OwnerUserId_At_Id",
                table: "UsageEvents",
                columns: new[] { "OwnerUserId", "At", "Id" },
                filter: "\"OwnerUserId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ProductId_At_Id",
                table: "UsageEvents",
                columns: new[] { "ProductId", "At", "Id" },
                filter: "\"ProductId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_Route_At_Id",
                table: "UsageEvents",
                columns: new[] { "Route", "At", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_Status_At_Id",
                table: "UsageEvents",
                columns: new[] { "Status", "At", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ApplicationId_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_KeyId_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_OwnerUserId_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_ProductId_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_Route_At_Id",
                table: "UsageEvents");

            migrationBuilder.DropIndex(
                name: "IX_UsageEvents_Status_At_Id",
                table: "UsageEvents");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ApplicationId_At",
                table: "UsageEvents",
                columns: new[] { "ApplicationId", "At" },
                filter: "\"ApplicationId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_At",
                table: "UsageEvents",
                column: "At");

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_KeyId_At",
                table: "UsageEvents",
                columns: new[] { "KeyId", "At" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageEvents_ProductId_At",
                table: "UsageEvents",
                columns: new[] { "ProductId", "At" },
                filter: "\"ProductId\" IS NOT NULL");
        }
    }
}
