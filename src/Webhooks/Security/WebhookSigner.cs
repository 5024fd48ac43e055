using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Webhooks.Security;

/// <summary>
/// Signs deliveries the Standard Webhooks way: HMAC-SHA256 over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, sent as
/// <c>webhook-signature: v1,&lt;base64&gt;</c>, one signature per secret in force, space-separated.
/// </summary>
internal static class WebhookSigner
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>The value of the <c>webhook-signature</c> header for one attempt.</summary>
    public static string Sign(IReadOnlyList<byte[]> keys, string eventId, long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{eventId}.{unixSeconds.ToString(CultureInfo.InvariantCulture)}.");
        var signed = ArrayPool<byte>.Shared.Rent(prefix.Length + body.Length);
        try
        {
            prefix.CopyTo(signed, 0);
            body.CopyTo(signed.AsSpan(prefix.Length));
            var content = signed.AsSpan(0, prefix.Length + body.Length);
            var signatures = new StringBuilder();
            Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
            foreach (var key in keys)
            {
                HMACSHA256.HashData(key, content, hash);
                signatures.Append(signatures.Length == 0 ? "v1," : " v1,").Append(Convert.ToBase64String(hash));
            }

            return signatures.ToString();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signed);
        }
    }
}
