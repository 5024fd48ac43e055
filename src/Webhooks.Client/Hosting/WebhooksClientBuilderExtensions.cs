using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Streams;
using Webhooks.Ingest;
using Webhooks.Observability;

namespace Webhooks.Hosting;

/// <summary>Connects an external Orleans client to the webhook engine.</summary>
public static class WebhooksClientBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="IWebhookPublisher"/> and the event stream on an Orleans client connected to a webhook silo.
    /// </summary>
    public static IClientBuilder AddWebhooksClient(this IClientBuilder builder, Action<WebhookPublisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMemoryStreams(WebhookStreams.ProviderName, streams =>
        {
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);

            // Producers pick an event's queue; they must split the stream into as many queues as the silos do.
            streams.ConfigurePartitioning(WebhookStreams.QueueCount);
        });
        builder.Services.AddWebhookPublisher();
        if (configure is not null)
        {
            builder.Services.Configure(configure);
        }

        return builder;
    }

    /// <summary>Registers the gateway and what it needs; shared by silo and client set-up.</summary>
    internal static IServiceCollection AddWebhookPublisher(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookMetrics>();
        services.AddOptions<WebhookPublisherOptions>();
        services.AddOptions<WebhookMetricsOptions>();
        services.TryAddSingleton<IWebhookPublisher, WebhookPublisher>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider, EngineGrainInterfaceTypes>());
        CachedAttributeGrainInterfaceTypes.Replace(services);
        return services;
    }
}
