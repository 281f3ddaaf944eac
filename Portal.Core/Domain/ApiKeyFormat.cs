using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Portal.Core.Domain;

/// <summary>A freshly generated key: the full string (shown once) and what is stored about it.</summary>
public sealed record IssuedSecret(string Key, string Hash, string Start, string Last4)
{
    // The full key must never reach a log line through a record's generated ToString.
    public override string ToString() => $"{Start}…{Last4}";
}

/// <summary>
/// The key string: <c>{prefix}{30 random base62}{6 base62 CRC32}</c>, e.g. <c>ptl_…</c>. 30 base62 characters carry
/// ≈178 random bits; the checksum lets a mistyped or foreign string be refused without a database read and lets
/// secret scanners recognise a real key. Any prefix of lowercase letters and digits ending in '_' is accepted,
/// so changing the configured prefix does not break keys already issued.
/// </summary>
public static class ApiKeyFormat
{
    public const string DefaultPrefix = "ptl_";
    public const int RandomLength = 30;
    public const int ChecksumLength = 6;
    private const int StartRandomChars = 4;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static IssuedSecret Generate(string prefix = DefaultPrefix)
    {
        if (!IsValidPrefix(prefix)) throw new ArgumentException("A key prefix is 1-16 lowercase letters or digits followed by '_'.", nameof(prefix));
        Span<char> random = stackalloc char[RandomLength];
        for (var i = 0; i < random.Length; i++) random[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        var body = prefix + new string(random);
        var key = body + Checksum(body);
        return new IssuedSecret(key, Hash(key), key[..(prefix.Length + StartRandomChars)], key[^4..]);
    }

    /// <summary>Shape and checksum only: no database, no secret comparison.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> key)
    {
        var underscore = key.LastIndexOf('_');
        if (underscore < 1 || key.Length != underscore + 1 + RandomLength + ChecksumLength) return false;
        if (!IsValidPrefix(key[..(underscore + 1)])) return false;
        foreach (var c in key[(underscore + 1)..])
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        Span<char> expected = stackalloc char[ChecksumLength];
        WriteChecksum(key[..^ChecksumLength], expected);
        return expected.SequenceEqual(key[^ChecksumLength..]);
    }

    /// <summary>Lower-case hex SHA-256 of the key's UTF-8 bytes. Runs on every key-authenticated call: the only allocation is the result.</summary>
    public static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (key.Length <= 128)
        {
            Span<byte> utf8 = stackalloc byte[128 * 3];
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        }
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Constant-time comparison of two hex hashes, so timing reveals nothing about how much matched.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(a.AsSpan()), MemoryMarshal.AsBytes(b.AsSpan()));

    public static string Mask(string start, string last4) => $"{start}…{last4}";

    private static bool IsValidPrefix(ReadOnlySpan<char> prefix)
    {
        if (prefix.Length is < 2 or > 17 || prefix[^1] != '_') return false;
        foreach (var c in prefix[..^1])
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    private static string Checksum(string body)
    {
        Span<char> chars = stackalloc char[ChecksumLength];
        WriteChecksum(body, chars);
        return new string(chars);
    }

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        Span<byte> bytes = stackalloc byte[body.Length];
        for (var i = 0; i < body.Length; i++) bytes[i] = (byte)body[i];
        ulong value = Crc32(bytes);
        // Fixed width, most significant first: 62^6 > 2^32, so every CRC fits.
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(value % 62)];
            value /= 62;
        }
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    // System.IO.Hashing would be a new package for twenty lines of the standard (IEEE) CRC-32.
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
