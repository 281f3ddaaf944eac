using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class ListIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Applications_CreatedAt",
                table: "Applications");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys");

            migrationBuilder.CreateIndex(
                name: "IX_Subscriptions_CreatedAt_Id",
                table: "Subscriptions",
                columns: new[] { "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Applications_CreatedAt_Id",
                table: "Applications",
                columns: new[] { "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Applications_Name_Id",
                table: "Applications",
                columns: new[] { "Name", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys",
                column: "ApplicationId",
                filter: "\"ApplicationId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_Personal_CreatedAt",
                table: "ApiKeys",
                columns: new[] { "CreatedAt", "Id" },
                filter: "\"ApplicationId\" IS NULL AND \"OwnerUserId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_Personal_LastUsedAt",
                table: "ApiKeys",
                columns: new[] { "LastUsedAt", "Id" },
                filter: "\"ApplicationId\" IS NULL AND \"OwnerUserId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_Personal_Name",
                table: "ApiKeys",
                columns: new[] { "Name", "Id" },
                filter: "\"ApplicationId\" IS NULL AND \"OwnerUserId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_Personal_State",
                table: "ApiKeys",
                columns: new[] { "RevokedAt", "ExpiresAt", "ApplicationId", "OwnerUserId" },
                filter: "\"ApplicationId\" IS NULL AND \"OwnerUserId\" IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Subscriptions_CreatedAt_Id",
                table: "Subscriptions");

            migrationBuilder.DropIndex(
                name: "IX_Applications_CreatedAt_Id",
                table: "Applications");

            migrationBuilder.DropIndex(
                name: "IX_Applications_Name_Id",
                table: "Applications");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_Personal_CreatedAt",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_Personal_LastUsedAt",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_Personal_Name",
                table: "ApiKeys");

            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_Personal_State",
                table: "ApiKeys");

            migrationBuilder.CreateIndex(
                name: "IX_Applications_CreatedAt",
                table: "Applications",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ApplicationId",
                table: "ApiKeys",
                column: "ApplicationId");
        }
    }
}
