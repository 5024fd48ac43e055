using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Ingest;
using Webhooks.Observability;
using Webhooks.Payloads;

namespace Webhooks.Delivery;

/// <summary>
/// What every tenant grain of a silo uses: options and services, held once for the silo rather than in the fields of
/// each activation. A silo holds many tenant grains, so each field an activation need not keep counts.
/// </summary>
internal sealed class TenantGrainServices(
    WebhookSettingsMonitor settings,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<FailedEventOptions> failedOptions,
    IOptions<StorageOptions> storageOptions,
    IOptions<WebhookPublisherOptions> publisherOptions,
    IIdempotencyStore idempotency,
    PayloadValidator validator,
    WebhookSender sender,
    DeliverySlots slots,
    SiloBacklog backlog,
    WebhookMetrics metrics,
    DeliveryGauges gauges,
    TimeProvider clock,
    ILogger<TenantWebhookGrain> logger,
    IGrainFactory grains)
{
    private IPayloadBuilderGrain? _builder;

    public WebhookSettingsMonitor Settings { get; } = settings;

    public DeliveryOptions Delivery { get; } = deliveryOptions.Value;

    public FailedEventOptions Failed { get; } = failedOptions.Value;

    public StorageOptions Storage { get; } = storageOptions.Value;

    /// <summary>How long a publish waits for room before it is refused (<c>ingest.max_wait</c>).</summary>
    public TimeSpan MaxWait { get; } = publisherOptions.Value.MaxWait;

    public IIdempotencyStore Idempotency { get; } = idempotency;

    public PayloadValidator Validator { get; } = validator;

    public WebhookSender Sender { get; } = sender;

    public DeliverySlots Slots { get; } = slots;

    public SiloBacklog Backlog { get; } = backlog;

    public WebhookMetrics Metrics { get; } = metrics;

    public DeliveryGauges Gauges { get; } = gauges;

    public TimeProvider Clock { get; } = clock;

    public ILogger<TenantWebhookGrain> Logger { get; } = logger;

    /// <summary>The payload builder: one reference for every tenant grain of the silo.</summary>
    public IPayloadBuilderGrain Builder => _builder ??= Grains.GetGrain<IPayloadBuilderGrain>(0);

    /// <summary>The silo's grain factory, which (unlike a grain's own) may be used off the grain's scheduler.</summary>
    public IGrainFactory Grains { get; } = grains;
}
