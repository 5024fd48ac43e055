using Orleans.Streams;
using Orleans.Streams.Core;

namespace Webhooks.Tests.Infrastructure;

/// <summary>What a host application sees of endpoint status changes: it subscribes to their stream, as this grain does.</summary>
public interface IEndpointStatusLog : IGrainWithStringKey
{
    Task<EndpointStatus[]> Received();
}

[ImplicitStreamSubscription(WebhookStreams.EndpointStatusNamespace)]
public sealed class EndpointStatusLogGrain : Grain, IEndpointStatusLog, IStreamSubscriptionObserver, IAsyncObserver<EndpointStatus>
{
    private readonly List<EndpointStatus> _received = [];

    public Task<EndpointStatus[]> Received() => Task.FromResult(_received.ToArray());

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<EndpointStatus>().ResumeAsync(this);

    public Task OnNextAsync(EndpointStatus item, StreamSequenceToken? token = null)
    {
        _received.Add(item);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}
