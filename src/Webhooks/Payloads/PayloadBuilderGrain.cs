using System.Text.Json;
using Orleans.Concurrency;

namespace Webhooks.Payloads;

/// <summary>Runs the registered payload builders. Stateless, so each silo scales it out and calls stay local.</summary>
[StatelessWorker]
internal sealed class PayloadBuilderGrain(PayloadBuilderRegistry registry) : Grain, IPayloadBuilderGrain
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public Task<WebhookValidationError[]> Validate(WebhookEvent webhookEvent)
    {
        if (registry.Find(webhookEvent.EventName) is not { } builder)
        {
            return Task.FromResult<WebhookValidationError[]>([new("event_name", $"'{webhookEvent.EventName}' is not a known event")]);
        }

        try
        {
            using var document = JsonDocument.Parse(webhookEvent.Payload, ParseOptions);
            var payload = document.RootElement;
            if (payload.ValueKind != JsonValueKind.Object)
            {
                return Task.FromResult<WebhookValidationError[]>([new("payload", "must be a JSON object")]);
            }

            return Task.FromResult(builder.Validate(payload).ToArray());
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
