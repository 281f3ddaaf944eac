using Portal.Core.Data;

namespace Portal.Tests.Core.Data;

public sealed class DatabaseProviderTests
{
    [Theory]
    [InlineData(null, DatabaseProvider.Sqlite)]
    [InlineData("", DatabaseProvider.Sqlite)]
    [InlineData("Sqlite", DatabaseProvider.Sqlite)]
    [InlineData("SQLITE", DatabaseProvider.Sqlite)]
    [InlineData("PostgreSQL", DatabaseProvider.PostgreSql)]
    [InlineData("postgres", DatabaseProvider.PostgreSql)]
    [InlineData(" Npgsql ", DatabaseProvider.PostgreSql)]
    public void KnownNames_InAnyCase(string? value, DatabaseProvider expected) =>
        Assert.Equal(expected, DatabaseProviders.Parse(value));

    [Fact]
    public void AnUnknownProvider_StopsWithAMessageNamingTheAcceptedOnes()
    {
        var error = Assert.Throws<InvalidOperationException>(() => DatabaseProviders.Parse("MySql"));
        Assert.Contains("'MySql'", error.Message);
        Assert.Contains("'Sqlite'", error.Message);
        Assert.Contains("'PostgreSQL'", error.Message);
    }
}
