using Portal.Core.Domain;

namespace Portal.Tests.Core.ApiKeys;

public sealed class ApiKeyFormatTests
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";

    [Fact]
    public void Generate_HasPrefixRandomPartAndChecksum_AndIsWellFormed()
    {
        var secret = ApiKeyFormat.Generate();
        Assert.StartsWith("ptl_", secret.Key);
        Assert.Equal(4 + ApiKeyFormat.RandomLength + ApiKeyFormat.ChecksumLength, secret.Key.Length);
        Assert.True(ApiKeyFormat.IsWellFormed(secret.Key));
        Assert.Equal(secret.Key[..8], secret.Start);
        Assert.Equal(secret.Key[^4..], secret.Last4);
        Assert.Equal(ApiKeyFormat.Hash(secret.Key), secret.Hash);
        Assert.Equal(64, secret.Hash.Length);
    }

    [Fact]
    public void Generate_TwoKeys_Differ()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeyFormat.Generate().Key).ToHashSet();
        Assert.Equal(1000, keys.Count);
    }

    [Fact]
    public void Generate_ConfiguredPrefix_IsUsedAndStillVerifies()
    {
        var secret = ApiKeyFormat.Generate("acme_");
        Assert.StartsWith("acme_", secret.Key);
        Assert.True(ApiKeyFormat.IsWellFormed(secret.Key));
    }

    [Fact]
    public void IsWellFormed_AnyOneCharacterChanged_IsNeverWellFormed()
    {
        for (var round = 0; round < 20; round++)
        {
            var key = ApiKeyFormat.Generate().Key;
            for (var i = 0; i < key.Length; i++)
            {
                foreach (var c in Alphabet)
                {
                    if (c == key[i]) continue;
                    var changed = string.Concat(key.AsSpan(0, i), c.ToString(), key.AsSpan(i + 1));
                    Assert.False(ApiKeyFormat.IsWellFormed(changed), $"'{changed}' (position {i}) passed the checksum");
                }
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("ptl_")]
    [InlineData("not-a-key")]
    [InlineData("Bearer ptl_abc")]
    [InlineData("ghp_0123456789012345678901234567890123456789")]
    public void IsWellFormed_ForeignStrings_AreRefused(string presented) =>
        Assert.False(ApiKeyFormat.IsWellFormed(presented));

    [Fact]
    public void IsWellFormed_TruncatedOrExtended_IsRefused()
    {
        var key = ApiKeyFormat.Generate().Key;
        Assert.False(ApiKeyFormat.IsWellFormed(key.AsSpan(0, key.Length - 1)));
        Assert.False(ApiKeyFormat.IsWellFormed(key + "a"));
    }

    [Fact]
    public void Crc32_MatchesTheStandardCheckValue() =>
        Assert.Equal(0xCBF43926u, ApiKeyFormat.Crc32("123456789"u8));

    [Fact]
    public void IssuedSecret_ToString_NeverContainsTheKey()
    {
        var secret = ApiKeyFormat.Generate();
        Assert.DoesNotContain(secret.Key, secret.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ptl_abc")]
    [InlineData("clé-ünïcode-🔑")]
    [InlineData(null)]
    public void Hash_IsLowerHexSha256OfUtf8_ForShortLongAndNonAsciiKeys(string? key)
    {
        key ??= new string('x', 500) + "é";
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        Assert.Equal(expected, ApiKeyFormat.Hash(key));
    }

    [Fact]
    public void HashesEqual_MatchesOnlyTheSameHash()
    {
        var hash = ApiKeyFormat.Hash("ptl_a");
        Assert.True(ApiKeyFormat.HashesEqual(hash, new string(hash.AsSpan())));
        Assert.False(ApiKeyFormat.HashesEqual(hash, ApiKeyFormat.Hash("ptl_b")));
        Assert.False(ApiKeyFormat.HashesEqual(hash, hash[..^1]));
        Assert.False(ApiKeyFormat.HashesEqual(hash, ""));
    }
}
