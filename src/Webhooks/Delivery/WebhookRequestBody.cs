using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
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

    // What an idle writer points at, so that it does not keep the last body alive.
    private static readonly IBufferWriter<byte> Detached = new ArrayBufferWriter<byte>(1);

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static byte[] Write(WebhookEvent webhookEvent, string payload)
    {
        var body = WriteSegment(webhookEvent, payload);
        return body.Count == body.Array!.Length ? body.Array : body.AsSpan().ToArray();
    }

    /// <summary>Writes the body into a buffer sized for it, without the copy that trimming it would cost.</summary>
    public static ArraySegment<byte> WriteSegment(WebhookEvent webhookEvent, string payload)
    {
        // Event ids, tenant ids and payloads are mostly ASCII: their length in characters is close to their UTF-8 size.
        var buffer = new ArrayBufferWriter<byte>(128 + webhookEvent.Id.Length + webhookEvent.EventName.Length + webhookEvent.TenantId.Length + payload.Length);

        // Each thread keeps one writer: it is reset onto each body, which is its own buffer, as the request sends it later.
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
        }
        finally
        {
            writer.Reset(Detached);
        }

        return MemoryMarshal.TryGetArray(buffer.WrittenMemory, out var segment) ? segment : buffer.WrittenSpan.ToArray();
    }

    /// <summary>RFC 3339 in UTC, with fractional seconds only when there are any: <c>2024-01-21T15:30:00Z</c>.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp) =>
        timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
