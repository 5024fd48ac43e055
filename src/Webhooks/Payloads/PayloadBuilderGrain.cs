using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Orleans.Concurrency;

namespace Webhooks.Payloads;

/// <summary>Runs the registered payload builders. Stateless, so each silo scales it out and calls stay local.</summary>
[StatelessWorker]
internal sealed class PayloadBuilderGrain(PayloadBuilderRegistry registry, IOptions<IngestLimitsOptions> limits) : Grain, IPayloadBuilderGrain
{
    private readonly IngestLimitsOptions _limits = limits.Value;

    public Task<WebhookValidationError[]> Validate(WebhookEvent webhookEvent)
    {
        var size = Encoding.UTF8.GetByteCount(webhookEvent.Payload);
        if (size > _limits.MaxPayloadBytes)
        {
            return Task.FromResult<WebhookValidationError[]>([new("payload", $"is {size} bytes; the limit is {_limits.MaxPayloadBytes}")]);
        }

        if (registry.Find(webhookEvent.EventName) is not { } builder)
        {
            return Task.FromResult<WebhookValidationError[]>([new("event_name", $"'{webhookEvent.EventName}' is not a known event")]);
        }

        try
        {
            using var document = JsonDocument.Parse(webhookEvent.Payload, new JsonDocumentOptions { MaxDepth = _limits.MaxJsonDepth });
            var payload = document.RootElement;
            if (payload.ValueKind != JsonValueKind.Object)
            {
                return Task.FromResult<WebhookValidationError[]>([new("payload", "must be a JSON object")]);
            }

            return Task.FromResult(builder.Validate(payload).ToArray());
        }
        catch (JsonException ex) when (JsonDepth.Exceeded(ex))
        {
            return Task.FromResult<WebhookValidationError[]>([new("payload", $"nests deeper than {_limits.MaxJsonDepth} levels")]);
        }
        catch (JsonException ex)
        {
            return Task.FromResult<WebhookValidationError[]>([new("payload", $"is not valid JSON: {ex.Message}")]);
        }
    }

    public async Task<string> Build(WebhookEvent webhookEvent)
    {
        var builder = registry.Find(webhookEvent.EventName)
            ?? throw new InvalidOperationException($"No payload builder for '{webhookEvent.EventName}'.");
        return await builder.BuildAsync(webhookEvent, CancellationToken.None);
    }
}
