using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Webhooks.Delivery;

/// <summary>Writes the JSON body of a delivery: exactly <c>id</c>, <c>event_name</c>, <c>timestamp</c>, <c>tenant_id</c> and <c>payload</c>.</summary>
internal static class WebhookRequestBody
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonEncodedText IdProperty = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText EventNameProperty = JsonEncodedText.Encode("event_name");
    private static readonly JsonEncodedText TimestampProperty = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText TenantIdProperty = JsonEncodedText.Encode("tenant_id");
    private static readonly JsonEncodedText PayloadProperty = JsonEncodedText.Encode("payload");

    // A thread's buffer is kept for the next body unless a large one made it grow past this.
    private const int KeptBufferBytes = 64 * 1024;

    // Each thread keeps one writer and one buffer: a body is written into the buffer, then copied out at its exact
    // size, because the request sends it later, from another thread. A buffer sized ahead would be grown anyway (the
    // writer asks for room for the payload's worst-case UTF-8 size), costing two arrays per body instead of one.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    public static byte[] Write(WebhookEvent webhookEvent, string payload)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        writer.Reset(buffer);
        try
        {
            writer.WriteStartObject();
            writer.WriteString(IdProperty, webhookEvent.Id);
            writer.WriteString(EventNameProperty, webhookEvent.EventName);

            // System.Text.Json writes a UTC DateTime as RFC 3339 with a Z, and fractional seconds only when there are any.
            writer.WriteString(TimestampProperty, webhookEvent.Timestamp.UtcDateTime);
            writer.WriteString(TenantIdProperty, webhookEvent.TenantId);
            writer.WritePropertyName(PayloadProperty);

            // Validated, so that a custom builder's broken output fails this delivery instead of reaching the receiver.
            writer.WriteRawValue(payload);
            writer.WriteEndObject();
            writer.Flush();
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.Reset();
            if (buffer.Capacity > KeptBufferBytes)
            {
                t_buffer = null;
                t_writer = null;
            }
            else
            {
                // Cleared, not only rewound: the thread does not keep the last body's payload in memory.
                buffer.Clear();
            }
        }
    }

    /// <summary>RFC 3339 in UTC, with fractional seconds only when there are any: <c>2024-01-21T15:30:00Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
