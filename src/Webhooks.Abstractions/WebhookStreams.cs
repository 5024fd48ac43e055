namespace Webhooks;

/// <summary>Names shared by the silo and its clients for the stream that carries events to tenant grains.</summary>
public static class WebhookStreams
{
    /// <summary>The Orleans stream provider that carries <see cref="WebhookEvent"/>s.</summary>
    public const string ProviderName = "Webhooks";

    /// <summary>The stream namespace used when <c>webhook.topic</c> is not set.</summary>
    public const string DefaultTopic = "webhooks";

    /// <summary>
    /// The stream namespace on which a tenant grain publishes its <see cref="EndpointStatus"/> when its endpoint is
    /// disabled or enabled; the stream key is the tenant id. Subscribe with an implicit subscription.
    /// </summary>
    public const string EndpointStatusNamespace = "webhooks.endpoint-status";
}
