namespace Webhooks;

/// <summary>Names shared by the silo and its clients for the stream that carries events to tenant grains.</summary>
public static class WebhookStreams
{
    /// <summary>The Orleans stream provider that carries <see cref="WebhookEvent"/>s.</summary>
    public const string ProviderName = "Webhooks";

    /// <summary>The stream namespace used when <c>webhook.topic</c> is not set.</summary>
    public const string DefaultTopic = "webhooks";
}
