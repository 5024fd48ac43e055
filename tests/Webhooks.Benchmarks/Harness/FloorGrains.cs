using Orleans.Concurrency;

namespace Webhooks.Benchmarks.Harness;

/// <summary>
/// A grain per tenant that takes an event and does nothing with it: one call to it per event is the least that any
/// design with a grain per tenant costs, whatever the grain then does.
/// </summary>
public interface IFloorTenantGrain : IGrainWithStringKey
{
    Task Take(WebhookEvent webhookEvent);
}

/// <summary>A stateless worker that hands back the event's payload: the least that a payload-builder grain costs.</summary>
public interface IFloorWorkerGrain : IGrainWithIntegerKey
{
    Task<string> Take(WebhookEvent webhookEvent);
}

internal sealed class FloorTenantGrain : Grain, IFloorTenantGrain
{
    public Task Take(WebhookEvent webhookEvent) => Task.CompletedTask;
}

[StatelessWorker]
internal sealed class FloorWorkerGrain : Grain, IFloorWorkerGrain
{
    public Task<string> Take(WebhookEvent webhookEvent) => Task.FromResult(webhookEvent.Payload);
}
