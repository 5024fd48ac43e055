using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Providers;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.Streams;
using StackExchange.Redis;
using Webhooks.Configuration;
using Webhooks.Delivery;
using Webhooks.Ingest;
using Webhooks.Observability;
using Webhooks.Payloads;
using Webhooks.Security;
using Webhooks.Streaming;

namespace Webhooks.Hosting;

/// <summary>Adds the webhook engine to an Orleans silo.</summary>
public static class WebhooksSiloBuilderExtensions
{
    /// <summary>
    /// Adds the webhook engine: tenant grains, payload builders, the delivery client, the event stream, and the
    /// <see cref="IWebhookPublisher"/> gateway. Reads <c>webhook</c> (tenants.yaml), <c>delivery</c> and <c>ingest</c>
    /// from <paramref name="configuration"/>, and refuses to start when any of them is invalid.
    /// </summary>
    public static ISiloBuilder AddWebhooks(this ISiloBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);

        // An invalid interval stops the silo when the options are validated; until then the default stands in.
        var ingest = new IngestLimitsOptions();
        new ConfigurationOrigin(configuration).Bind(IngestLimitsOptions.SectionName, ingest);
        var pollInterval = ingest.HasValidStreamPollInterval
            ? ingest.StreamPollInterval
            : new IngestLimitsOptions().StreamPollInterval;
        builder.AddMemoryStreams(WebhookStreams.ProviderName, streams =>
        {
            // Tenant grains subscribe implicitly, so no per-stream subscription state is kept.
            streams.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
            streams.ConfigurePartitioning(WebhookStreams.QueueCount);
            streams.ConfigurePullingAgent(agent => agent.Configure(options =>
            {
                options.GetQueueMsgsTimerPeriod = Min(pollInterval, AgentTick);

                // A grain whose stream has a line of events takes up to 64 of them in one call, not a call each.
                options.BatchContainerBatchSize = 64;
            }));

            // A tenant grain takes each event at once, so the queue cache need not keep delivered events for the
            // default half hour: a large cache costs memory, and every stream's cursor walks it.
            streams.ConfigureCacheEviction(eviction => eviction.Configure(options =>
            {
                options.DataMinTimeInCache = TimeSpan.FromSeconds(10);
                options.DataMaxAgeInCache = TimeSpan.FromSeconds(30);
                options.MetadataMinTimeInCache = TimeSpan.FromMinutes(1);
            }));
        });

        // A publish in this process wakes its queue's pulling agent at once; polling finds those from other processes.
        builder.Services.AddKeyedSingleton<IQueueAdapterFactory>(WebhookStreams.ProviderName, (services, name) =>
            new PromptQueueAdapterFactory(MemoryAdapterFactory<DefaultMemoryMessageBodySerializer>.Create(services, (string)name!), pollInterval));

        builder.Services.AddWebhookServices(configuration);
        builder.AddWebhookStorage(configuration);
        return builder;
    }

    // How soon an idle queue's pulling agent starts reading again after a read that found nothing. Between these, a
    // read waits for a publish (see PromptQueueAdapterFactory), so this bounds the rare gaps when none waits.
    private static readonly TimeSpan AgentTick = TimeSpan.FromMilliseconds(20);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Adds the engine's readiness check, tagged <c>ready</c>: the silo is active, the event stream is up, and the
    /// storage answers. Map it to the readiness probe.
    /// </summary>
    public static IHealthChecksBuilder AddWebhooksReadiness(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<WebhookReadinessCheck>("webhooks", tags: [ReadinessTag]);
    }

    /// <summary>The tag of the checks that make up readiness.</summary>
    public const string ReadinessTag = "ready";

    /// <summary>Adds the engine using the silo builder's own configuration.</summary>
    public static ISiloBuilder AddWebhooks(this ISiloBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddWebhooks(builder.Configuration);
    }

    // Tenant state, reminders and idempotency keys live in memory or in Redis, as storage.provider says.
    private static void AddWebhookStorage(this ISiloBuilder builder, IConfiguration configuration)
    {
        var storage = new StorageOptions();
        new ConfigurationOrigin(configuration).Bind(StorageOptions.SectionName, storage);
        var services = builder.Services;
        var hasReminders = services.Any(service => service.ServiceType == typeof(IReminderTable));
        services.AddSingleton<RedisConnection>();
        if (storage.IsDurable)
        {
            builder.AddRedisGrainStorage(StorageOptions.GrainStorageName, options => options
                .Configure<Serializer>((redis, serializer) =>
                {
                    redis.ConfigurationOptions = ConfigurationOptions.Parse(storage.Redis);
                    redis.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                }));
            if (!hasReminders)
            {
                builder.UseRedisReminderService(reminders => reminders.ConfigurationOptions = ConfigurationOptions.Parse(storage.Redis));
            }

            services.TryAddSingleton<IIdempotencyStore, RedisIdempotencyStore>();
        }
        else
        {
            // Orleans' own serializer, as for Redis: what is marked not to be stored (such as a delivery's in-flight
            // flag) is not, so a grain that resumes sends again what was in flight when it stopped.
            builder.AddMemoryGrainStorage(StorageOptions.GrainStorageName, options => options
                .Configure<Serializer>((memory, serializer) => memory.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer)));
            if (!hasReminders)
            {
                builder.UseInMemoryReminderService();
            }

            services.TryAddSingleton<IIdempotencyStore, MemoryIdempotencyStore>();
        }

        // The wake reminder may tick more often than Orleans' default minimum of one minute.
        services.Configure<ReminderOptions>(options =>
        {
            if (storage.WakePeriod < options.MinimumReminderPeriod)
            {
                options.MinimumReminderPeriod = storage.WakePeriod;
            }
        });
    }

    private static IServiceCollection AddWebhookServices(this IServiceCollection services, IConfiguration configuration)
    {
        var origin = new ConfigurationOrigin(configuration);
        services.AddSingleton(origin);
        services.BindValidated<WebhookOptions, WebhookOptionsValidator>(origin, WebhookOptions.SectionName, options => options.ResolveSecretReferences());
        services.BindValidated<SecurityOptions, SecurityOptionsValidator>(origin, SecurityOptions.SectionName);
        services.BindValidated<IngestLimitsOptions, IngestLimitsValidator>(origin, IngestLimitsOptions.SectionName);
        services.TryAddSingleton<NetworkPolicy>();
        services.BindValidated<DeliveryOptions, DeliveryOptionsValidator>(origin, DeliveryOptions.SectionName);
        services.BindValidated<FailedEventOptions, ReliabilityOptionsValidator>(origin, FailedEventOptions.SectionName);
        services.BindValidated<IdempotencyOptions, ReliabilityOptionsValidator>(origin, IdempotencyOptions.SectionName);
        services.BindValidated<StorageOptions, ReliabilityOptionsValidator>(origin, StorageOptions.SectionName);
        services.AddOptions<WebhookPublisherOptions>().Configure(options => origin.Bind(WebhookPublisherOptions.SectionName, options));

        services.AddOptions<WebhookMetricsOptions>().Configure(options => origin.Bind(WebhookMetricsOptions.SectionName, options));
        services.AddWebhookPublisher();
        services.TryAddSingleton<DeliveryGauges>();
        services.TryAddSingleton<WebhookSettingsMonitor>();
        services.AddHostedService<WebhookSettingsActivator>();
        services.TryAddSingleton<PayloadBuilderRegistry>();
        services.TryAddSingleton<PayloadValidator>();
        services.TryAddSingleton<ILocalPayloadValidator>(provider => provider.GetRequiredService<PayloadValidator>());
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<DeliverySlots>();
        services.TryAddSingleton<SiloBacklog>();
        services.TryAddSingleton<TenantGrainServices>();
        services.AddHttpClient(WebhookSender.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                // Every connection goes through the SSRF guard, which judges the address resolved at connect time.
                ConnectCallback = provider.GetRequiredService<NetworkPolicy>() is var policy
                    ? (context, cancellationToken) => policy.ConnectAsync(context.DnsEndPoint, cancellationToken)
                    : null,

                // A redirect is a failed delivery: following it would send the tenant's headers somewhere else.
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = provider.GetRequiredService<IOptions<DeliveryOptions>>().Value.Timeout,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)

            // The engine logs each delivery itself, at levels fit for production and without headers.
            .RemoveAllLoggers();
        return services;
    }

    private static void BindValidated<TOptions, TValidator>(this IServiceCollection services, ConfigurationOrigin origin, string section, Action<TOptions>? afterBind = null)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>()
            .Configure(options =>
            {
                origin.Bind(section, options);
                afterBind?.Invoke(options);
            })
            .ValidateOnStart();

        // No change token source: options are read once. Tenants are reloaded by WebhookSettingsMonitor, which keeps
        // the last good configuration when an edit is invalid instead of failing inside a change callback.
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
    }
}
