using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Portal.Core.Migrations
{
    /// <inheritdoc />
    public partial class UsageRollupTables : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_UsageRollups_HourStart",
                table: "UsageRollups");

            migrationBuilder.CreateTable(
                name: "UsageApplicationRollups",
                columns: table => new
                {
                    ApplicationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Span = table.Column<int>(type: "INTEGER", nullable: false),
                    Start = table.Column<long>(type: "INTEGER", nullable: false),
                    Calls = table.Column<long>(type: "INTEGER", nullable: false),
                    Errors = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageApplicationRollups", x => new { x.ApplicationId, x.Span, x.Start });
                });

            migrationBuilder.CreateTable(
                name: "UsageHours",
                columns: table => new
                {
                    HourStart = table.Column<long>(type: "INTEGER", nullable: false),
                    Calls = table.Column<long>(type: "INTEGER", nullable: false),
                    Errors = table.Column<long>(type: "INTEGER", nullable: false),
                    PersonalCalls = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageHours", x => x.HourStart);
                });

            migrationBuilder.CreateTable(
                name: "UsageKeyDays",
                columns: table => new
                {
                    KeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Day = table.Column<long>(type: "INTEGER", nullable: false),
                    Calls = table.Column<long>(type: "INTEGER", nullable: false),
                    Errors = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageKeyDays", x => new { x.KeyId, x.Day });
                });

            migrationBuilder.CreateTable(
                name: "UsageOutcomeHours",
                columns: table => new
                {
                    HourStart = table.Column<long>(type: "INTEGER", nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageOutcomeHours", x => new { x.HourStart, x.Outcome });
                });

            migrationBuilder.CreateTable(
                name: "UsageProductRollups",
                columns: table => new
                {
                    ProductId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Span = table.Column<int>(type: "INTEGER", nullable: false),
                    Start = table.Column<long>(type: "INTEGER", nullable: false),
                    Calls = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageProductRollups", x => new { x.ProductId, x.Span, x.Start });
                });

            migrationBuilder.CreateTable(
                name: "UsageVerificationHours",
                columns: table => new
                {
                    KeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    HourStart = table.Column<long>(type: "INTEGER", nullable: false),
                    ProductId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Count = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_UsageVerificationHours", x => new { x.KeyId, x.HourStart, x.ProductId, x.Outcome });
                });

            migrationBuilder.CreateIndex(
                name: "IX_UsageRollups_HourStart_Count",
                table: "UsageRollups",
                columns: new[] { "HourStart", "Count" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageApplicationRollups_Span_Start_Calls",
                table: "UsageApplicationRollups",
                columns: new[] { "Span", "Start", "Calls" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageKeyDays_Day_Calls",
                table: "UsageKeyDays",
                columns: new[] { "Day", "Calls" });

            migrationBuilder.CreateIndex(
                name: "IX_UsageProductRollups_Span_Start_Calls",
                table: "UsageProductRollups",
                columns: new[] { "Span", "Start", "Calls" });

            // Backfill, so an upgraded database keeps its history: calls per key and hour are in UsageRollups (kept: they
            // are the per-key hourly rows); verifications per code and product only in the raw events still retained.
            migrationBuilder.Sql("""
                INSERT INTO "UsageHours" ("HourStart", "Calls", "Errors", "PersonalCalls")
                SELECT r."HourStart", SUM(r."Count"), SUM(r."Errors"), SUM(CASE WHEN k."ApplicationId" IS NULL THEN r."Count" ELSE 0 END)
                FROM "UsageRollups" AS r LEFT JOIN "ApiKeys" AS k ON k."Id" = r."KeyId"
                GROUP BY r."HourStart";
                INSERT INTO "UsageKeyDays" ("KeyId", "Day", "Calls", "Errors")
                SELECT "KeyId", ("HourStart" - "HourStart" % 864000000000), SUM("Count"), SUM("Errors") FROM "UsageRollups"
                GROUP BY "KeyId", ("HourStart" - "HourStart" % 864000000000);
                INSERT INTO "UsageApplicationRollups" ("ApplicationId", "Span", "Start", "Calls", "Errors")
                SELECT k."ApplicationId", 1, r."HourStart", SUM(r."Count"), SUM(r."Errors")
                FROM "UsageRollups" AS r JOIN "ApiKeys" AS k ON k."Id" = r."KeyId" WHERE k."ApplicationId" IS NOT NULL
                GROUP BY k."ApplicationId", r."HourStart";
                INSERT INTO "UsageApplicationRollups" ("ApplicationId", "Span", "Start", "Calls", "Errors")
                SELECT k."ApplicationId", 24, (r."HourStart" - r."HourStart" % 864000000000), SUM(r."Count"), SUM(r."Errors")
                FROM "UsageRollups" AS r JOIN "ApiKeys" AS k ON k."Id" = r."KeyId" WHERE k."ApplicationId" IS NOT NULL
                GROUP BY k."ApplicationId", (r."HourStart" - r."HourStart" % 864000000000);
                INSERT INTO "UsageOutcomeHours" ("HourStart", "Outcome", "Count")
                SELECT ("At" - "At" % 36000000000), "Outcome", COUNT(*) FROM "UsageEvents" WHERE "Outcome" IS NOT NULL
                GROUP BY ("At" - "At" % 36000000000), "Outcome";
                INSERT INTO "UsageVerificationHours" ("KeyId", "HourStart", "ProductId", "Outcome", "Count")
                SELECT COALESCE("KeyId", '00000000-0000-0000-0000-000000000000'), ("At" - "At" % 36000000000), COALESCE("ProductId", '00000000-0000-0000-0000-000000000000'), "Outcome", COUNT(*)
                FROM "UsageEvents" WHERE "Outcome" IS NOT NULL
                GROUP BY COALESCE("KeyId", '00000000-0000-0000-0000-000000000000'), ("At" - "At" % 36000000000), COALESCE("ProductId", '00000000-0000-0000-0000-000000000000'), "Outcome";
                INSERT INTO "UsageProductRollups" ("ProductId", "Span", "Start", "Calls")
                SELECT "ProductId", 1, ("At" - "At" % 36000000000), COUNT(*) FROM "UsageEvents" WHERE "Outcome" IS NOT NULL AND "ProductId" IS NOT NULL
                GROUP BY "ProductId", ("At" - "At" % 36000000000);
                INSERT INTO "UsageProductRollups" ("ProductId", "Span", "Start", "Calls")
                SELECT "ProductId", 24, ("At" - "At" % 864000000000), COUNT(*) FROM "UsageEvents" WHERE "Outcome" IS NOT NULL AND "ProductId" IS NOT NULL
                GROUP BY "ProductId", ("At" - "At" % 864000000000);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "UsageApplicationRollups");

            migrationBuilder.DropTable(
                name: "UsageHours");

            migrationBuilder.DropTable(
                name: "UsageKeyDays");

            migrationBuilder.DropTable(
                name: "UsageOutcomeHours");

            migrationBuilder.DropTable(
                name: "UsageProductRollups");

            migrationBuilder.DropTable(
                name: "UsageVerificationHours");

            migrationBuilder.DropIndex(
                name: "IX_UsageRollups_HourStart_Count",
                table: "UsageRollups");

            migrationBuilder.CreateIndex(
                name: "IX_UsageRollups_HourStart",
                table: "UsageRollups",
                column: "HourStart");
        }
    }
}
