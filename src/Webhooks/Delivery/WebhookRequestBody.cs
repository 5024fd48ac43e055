using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Webhooks.Delivery;

/// <summary>Writes the JSON body of a delivery: exactly <c>id</c>, <c>event_name</c>, <c>timestamp</c>, <c>tenant_id</c> and <c>payload</c>.</summary>
internal static class WebhookRequestBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(WebhookEvent webhookEvent, string payload)
    {
        var buffer = new ArrayBufferWriter<byte>(192 + webhookEvent.Id.Length + webhookEvent.TenantId.Length + (payload.Length * 2));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", webhookEvent.Id);
            writer.WriteString("event_name", webhookEvent.EventName);
            writer.WriteString("timestamp", FormatTimestamp(webhookEvent.Timestamp));
            writer.WriteString("tenant_id", webhookEvent.TenantId);
            writer.WritePropertyName("payload");

            // Validated, so that a custom builder's broken output fails this delivery instead of reaching the receiver.
            writer.WriteRawValue(payload);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>RFC 3339 in UTC, with fractional seconds only when there are any: <c>2024-01-21T15:30:00Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
