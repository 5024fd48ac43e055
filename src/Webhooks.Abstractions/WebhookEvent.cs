using System.Text.Json;
using System.Text.Json.Serialization;

namespace Webhooks;

/// <summary>
/// A system event addressed to one tenant: the message that travels from the publisher, through the stream, to the tenant's grain.
/// </summary>
/// <remarks>
/// Leave <see cref="Id"/> empty and <see cref="Timestamp"/> at its default to have the engine assign them
/// (a UUID, and the current UTC time) when the event is published.
/// </remarks>
[GenerateSerializer, Immutable, Alias("webhooks.WebhookEvent")]
public sealed record WebhookEvent
{
    /// <summary>The event's unique id. Empty means "assign one on publish".</summary>
    [Id(0), JsonPropertyName("id")]
    public string Id { get; init; } = "";

    /// <summary>One of <see cref="WebhookEventNames"/>.</summary>
    [Id(1), JsonPropertyName("event_name")]
    public string EventName { get; init; } = "";

    /// <summary>The tenant the event belongs to; it selects the endpoint.</summary>
    [Id(2), JsonPropertyName("tenant_id")]
    public string TenantId { get; init; } = "";

    /// <summary>When the event happened. The default value means "now, on publish".</summary>
    [Id(3), JsonPropertyName("timestamp")]
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The event-specific payload as raw JSON text. It must be a JSON object.</summary>
    [Id(4), JsonPropertyName("payload"), JsonConverter(typeof(RawJsonConverter))]
    public string Payload { get; init; } = "{}";

    /// <summary>Creates an event whose payload is <paramref name="payload"/> serialized with System.Text.Json.</summary>
    public static WebhookEvent Create<TPayload>(string tenantId, string eventName, TPayload payload, JsonSerializerOptions? options = null) => new()
    {
        TenantId = tenantId,
        EventName = eventName,
        Payload = JsonSerializer.Serialize(payload, options),
    };
}
