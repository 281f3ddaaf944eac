using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class SubscriptionsOutliveApplications : Migration
    {
        /// <summary>
        /// Registrations made before they kept their application's name and account get both from their application
        /// (every one has one yet: until now removing an application deleted its registrations).
        /// </summary>
        public const string BackfillApplicationSql =
            "UPDATE Subscriptions SET " +
            "ApplicationName = (SELECT a.Name FROM Applications a WHERE a.Id = Subscriptions.ApplicationId), " +
            "AccountId = (SELECT a.AccountId FROM Applications a WHERE a.Id = Subscriptions.ApplicationId) " +
            "WHERE EXISTS (SELECT 1 FROM Applications a WHERE a.Id = Subscriptions.ApplicationId);";

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Subscriptions_Applications_ApplicationId",
                table: "Subscriptions");

            migrationBuilder.AlterColumn<Guid>(
                name: "ApplicationId",
                table: "Subscriptions",
                type: "TEXT",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "TEXT");

            migrationBuilder.AddColumn<Guid>(
                name: "AccountId",
                table: "Subscriptions",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<string>(
                name: "ApplicationName",
                table: "Subscriptions",
                type: "TEXT",
                maxLength: 255,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateIndex(
                name: "IX_Subscriptions_AccountId_CreatedAt",
                table: "Subscriptions",
                columns: new[] { "AccountId", "CreatedAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_Subscriptions_Accounts_AccountId",
                table: "Subscriptions",
                column: "AccountId",
                principalTable: "Accounts",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_Subscriptions_Applications_ApplicationId",
                table: "Subscriptions",
                column: "ApplicationId",
                principalTable: "Applications",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);

            // SQLite runs this after the columns are added and before the table is rebuilt with its new foreign keys (EF
            // warns that a rebuild is pending: expected), so the rows copied into the new table already name real accounts.
            migrationBuilder.Sql(BackfillApplicationSql);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Subscriptions_Accounts_AccountId",
                table: "Subscriptions");

            migrationBuilder.DropForeignKey(
                name: "FK_Subscriptions_Applications_ApplicationId",
                table: "Subscriptions");

            migrationBuilder.DropIndex(
                name: "IX_Subscriptions_AccountId_CreatedAt",
                table: "Subscriptions");

            migrationBuilder.DropColumn(
                name: "AccountId",
                table: "Subscriptions");

            migrationBuilder.DropColumn(
                name: "ApplicationName",
                table: "Subscriptions");

            migrationBuilder.AlterColumn<Guid>(
                name: "ApplicationId",
                table: "Subscriptions",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "TEXT",
                oldNullable: true);

            migrationBuilder.AddForeignKey(
                name: "FK_Subscriptions_Applications_ApplicationId",
                table: "Subscriptions",
                column: "ApplicationId",
                principalTable: "Applications",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
