using Portal.Core.Common;
using Portal.Core.Features.Products;
using Portal.Core.Features.Users;
using Portal.Core.Features.Webhooks;

namespace Portal.Tests.Core.Common;

/// <summary>The one rule on every string of every request: no control or invisible formatting characters.</summary>
public sealed class TextRulesTests
{
    [Theory]
    [InlineData("a\0b", "U+0000")]
    [InlineData("a\u0007b", "U+0007")]
    [InlineData("line\nbreak", "U+000A")]
    [InlineData("tab\there", "U+0009")]
    [InlineData("del\u007F", "U+007F")]
    [InlineData("c1\u0085", "U+0085")]
    [InlineData("admin\u202Enimda", "U+202E")]
    [InlineData("iso\u2067late", "U+2067")]
    [InlineData("zero\u200Bwidth", "U+200B")]
    [InlineData("word\u2060joiner", "U+2060")]
    [InlineData("\uFEFFbom", "U+FEFF")]
    public void Validate_ANameWithAControlOrFormattingCharacter_IsRefusedOnThatField(string name, string named)
    {
        var error = RequestValidation.Validate(new CreateProduct { Name = name });

        Assert.NotNull(error);
        var message = Assert.Single(error.Errors["name"]);
        Assert.Contains(named, message);
        Assert.Contains("name", error.Detail);
    }

    [Fact]
    public void Validate_ADescription_MaySpanLinesAndHoldTabs_ButNotOtherControls()
    {
        Assert.Null(RequestValidation.Validate(new CreateProduct { Name = "Maps", Description = "First line\r\n\tindented" }));

        var error = RequestValidation.Validate(new CreateProduct { Name = "Maps", Description = "bell\u0007" });
        Assert.Contains("U+0007", Assert.Single(error!.Errors["description"]));
    }

    [Fact]
    public void Validate_ANestedPlanName_IsNamedByItsPath()
    {
        var error = RequestValidation.Validate(new CreateProduct { Name = "Maps", Plans = [new PlanRequest { Name = "ok" }, new PlanRequest { Name = "b\0d" }] });

        Assert.Equal(["plans[1].name"], error!.Errors.Keys);
    }

    [Fact]
    public void Validate_AWebhookUrlWithATabOrLineBreak_IsRefused_AndAListOfNamesToo()
    {
        var error = RequestValidation.Validate(new CreateWebhook { Url = "https://example.com/\thook", EventTypes = ["user.created\0"] });

        Assert.Contains("U+0009", error!.Errors["url"][0]);
        Assert.Contains("U+0000", error.Errors["eventTypes"][0]);
    }

    [Fact]
    public void Validate_APassword_MayHoldAnyCharacter_AndOrdinaryTextPasses()
    {
        Assert.Null(RequestValidation.Validate(new CreateUser
        {
            Email = "ana@example.com", DisplayName = "Ana Müller-Łęcka 山田 👩‍💻".Replace("\u200D", ""), Password = "pass\u202Eword\0!", Roles = [Roles.Developer],
        }));
    }

    [Theory]
    [InlineData("می\u200Cخواهم")] // Persian: ZWNJ keeps two letters apart, as written
    [InlineData("क्\u200Dष")] // Devanagari: ZWJ after a virama
    [InlineData("👩\u200D💻 team")] // an emoji sequence
    public void Validate_AJoinerWhereItsScriptNeedsIt_Passes(string name) =>
        Assert.Null(RequestValidation.Validate(new CreateProduct { Name = name }));

    [Theory]
    [InlineData("ad\u200Cmin", "U+200C")] // between Latin letters it changes nothing a reader sees
    [InlineData("\u200Dadmin", "U+200D")]
    [InlineData("admin\u200D", "U+200D")]
    [InlineData("Анна\u200Dлиз", "U+200D")]
    [InlineData("👩\u200D\u200D💻", "U+200D")]
    public void Validate_AJoinerThatOnlyDisguises_IsRefused(string name, string named) =>
        Assert.Contains(named, Assert.Single(RequestValidation.Validate(new CreateProduct { Name = name })!.Errors["name"]));

    [Fact]
    public void Validate_ASearchWithNul_IsRefusedOnSearch()
    {
        var error = RequestValidation.Validate(new UserQuery { Search = "\0" });

        Assert.Contains("U+0000", error!.Errors["search"][0]);
    }
}
