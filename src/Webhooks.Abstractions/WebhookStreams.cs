namespace Webhooks;

/// <summary>Names shared by the silo and its clients for the stream that carries events to tenant grains.</summary>
public static class WebhookStreams
{
    /// <summary>The Orleans stream provider that carries <see cref="WebhookEvent"/>s.</summary>
    public const string ProviderName = "Webhooks";

    /// <summary>
    /// How many queues the event stream is split into, the same on silos and clients. A queue's cache is walked by the
    /// cursor of every tenant whose events it carries, so more queues means less walking when tenants are many.
    /// </summary>
    public const int QueueCount = 32;

    /// <summary>The stream namespace used when <c>webhook.topic</c> is not set.</summary>
    public const string DefaultTopic = "webhooks";

    /// <summary>
    /// The stream namespace on which a tenant grain publishes its <see cref="EndpointStatus"/> when its endpoint is
    /// disabled or enabled; the stream key is the tenant id. Subscribe with an implicit subscription.
    /// </summary>
    public const string EndpointStatusNamespace = "webhooks.endpoint-status";
}
