using System.Security.Cryptography;

namespace Webhooks.Security;

/// <summary>
/// A Standard Webhooks signing secret: <c>whsec_</c> followed by the base64 of 24 to 64 random bytes.
/// </summary>
public static class SigningSecret
{
    public const string Prefix = "whsec_";
    public const int MinBytes = 24;
    public const int MaxBytes = 64;

    /// <summary>A new secret of 32 random bytes.</summary>
    public static string Generate() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Decodes a secret; on failure returns null with a reason that never repeats the secret.</summary>
    public static byte[]? TryDecode(string? secret, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(secret) || !secret.StartsWith(Prefix, StringComparison.Ordinal))
        {
            problem = $"must start with '{Prefix}'";
            return null;
        }

        var key = new byte[MaxBytes + 3];
        if (!Convert.TryFromBase64String(secret[Prefix.Length..], key, out var length))
        {
            problem = $"must be '{Prefix}' followed by base64 of {MinBytes} to {MaxBytes} bytes";
            return null;
        }

        if (length is < MinBytes or > MaxBytes)
        {
            problem = $"holds {length} bytes; a secret must hold {MinBytes} to {MaxBytes} random bytes";
            return null;
        }

        return key[..length];
    }
}
