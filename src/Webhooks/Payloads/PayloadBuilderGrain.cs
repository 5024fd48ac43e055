using Orleans.Concurrency;

namespace Webhooks.Payloads;

/// <summary>Runs the registered payload builders. Stateless, so each silo scales it out and calls stay local.</summary>
[StatelessWorker]
internal sealed class PayloadBuilderGrain(PayloadBuilderRegistry registry, PayloadValidator validator) : Grain, IPayloadBuilderGrain
{
    public Task<WebhookValidationError[]> Validate(WebhookEvent webhookEvent) => Task.FromResult(validator.Validate(webhookEvent));

    public async Task<string> Build(WebhookEvent webhookEvent) => await Builder(webhookEvent).BuildAsync(webhookEvent, CancellationToken.None);

    public async Task<string[]> BuildAll(WebhookEvent[] webhookEvents)
    {
        var payloads = new string[webhookEvents.Length];
        for (var i = 0; i < webhookEvents.Length; i++)
        {
            payloads[i] = await Builder(webhookEvents[i]).BuildAsync(webhookEvents[i], CancellationToken.None);
        }

        return payloads;
    }

    private IWebhookPayloadBuilder Builder(WebhookEvent webhookEvent) => registry.Find(webhookEvent.EventName)
        ?? throw new InvalidOperationException($"No payload builder for '{webhookEvent.EventName}'.");
}
