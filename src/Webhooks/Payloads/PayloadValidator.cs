using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Ingest;

namespace Webhooks.Payloads;

/// <summary>
/// Checks a payload against the ingest limits and its event type's builder: a JSON object, no larger and no deeper than
/// allowed, with the fields the builder requires.
/// </summary>
internal sealed class PayloadValidator(PayloadBuilderRegistry registry, IOptions<IngestLimitsOptions> limits) : ILocalPayloadValidator
{
    private readonly IngestLimitsOptions _limits = limits.Value;

    public WebhookValidationError[] Validate(WebhookEvent webhookEvent)
    {
        if (registry.Find(webhookEvent.EventName) is not { } builder)
        {
            return [new("event_name", $"'{webhookEvent.EventName}' is not a known event")];
        }

        var size = Encoding.UTF8.GetByteCount(webhookEvent.Payload);
        if (size > _limits.MaxPayloadBytes)
        {
            return [new("payload", $"is {size} bytes; the limit is {_limits.MaxPayloadBytes}")];
        }

        try
        {
            using var document = JsonDocument.Parse(webhookEvent.Payload, new JsonDocumentOptions { MaxDepth = _limits.MaxJsonDepth });
            var payload = document.RootElement;
            return payload.ValueKind == JsonValueKind.Object
                ? [.. builder.Validate(payload)]
                : [new("payload", "must be a JSON object")];
        }
        catch (JsonException ex) when (JsonDepth.Exceeded(ex))
        {
            return [new("payload", $"nests deeper than {_limits.MaxJsonDepth} levels")];
        }
        catch (JsonException ex)
        {
            return [new("payload", $"is not valid JSON: {ex.Message}")];
        }
    }
}
