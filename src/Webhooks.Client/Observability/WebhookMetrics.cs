using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace Webhooks.Observability;

/// <summary>
/// The engine's counters and histograms, on one meter named <see cref="MeterName"/>. Tenant ids are attached as a
/// <c>tenant</c> tag only when <see cref="WebhookMetricsOptions.TenantLabels"/> is on: with many tenants they would
/// multiply every series.
/// </summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "Webhooks.Orleans";

    private readonly bool _tenantLabels;
    private readonly Counter<long> _published;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _filtered;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _attemptDuration;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _disabled;

    public WebhookMetrics(IMeterFactory meterFactory, IOptions<WebhookMetricsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(options);
        _tenantLabels = options.Value.TenantLabels;
        Meter = meterFactory.Create(MeterName);
        _published = Meter.CreateCounter<long>("webhooks.events.published", "{event}", "Events offered to a publisher (the gateway or a tenant grain), whatever became of them.");
        _accepted = Meter.CreateCounter<long>("webhooks.events.accepted", "{event}", "Events accepted by a publisher.");
        _refused = Meter.CreateCounter<long>("webhooks.events.refused", "{event}", "Events refused at publish, by reason.");
        _filtered = Meter.CreateCounter<long>("webhooks.events.filtered", "{event}", "Events that a rule kept from delivery, by reason.");
        _dropped = Meter.CreateCounter<long>("webhooks.events.dropped", "{event}", "Accepted events dropped, by reason.");
        _attempts = Meter.CreateCounter<long>("webhooks.delivery.attempts", "{attempt}", "Delivery attempts, by event type, outcome and status class.");
        _attemptDuration = Meter.CreateHistogram("webhooks.delivery.duration", "s", "Duration of delivery attempts.", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        });

        // Retries stretch delivery over hours: the buckets run from milliseconds to a day.
        _latency = Meter.CreateHistogram("webhooks.delivery.latency", "s", "From an event's timestamp to the 2xx that delivered it.", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 7200, 36000, 86400],
        });
        _retries = Meter.CreateCounter<long>("webhooks.delivery.retries", "{retry}", "Failed attempts scheduled for a retry.");
        _failed = Meter.CreateCounter<long>("webhooks.events.failed", "{event}", "Events given up on and kept as failed, by reason.");
        _expired = Meter.CreateCounter<long>("webhooks.events.expired", "{event}", "Failed events removed after their retention.");
        _disabled = Meter.CreateCounter<long>("webhooks.endpoints.disabled", "{endpoint}", "Endpoints disabled for failing.");
    }

    /// <summary>The engine's meter, for gauges defined elsewhere.</summary>
    public Meter Meter { get; }

    /// <summary>Whether measurements carry a <c>tenant</c> tag.</summary>
    public bool TenantLabels => _tenantLabels;

    /// <summary>
    /// Set in the request context of a publish that a gateway has already counted, so that the grain it hands the event
    /// to does not count it a second time.
    /// </summary>
    internal const string PublishCountedKey = "webhooks-publish-counted";

    /// <summary>The value of the <c>event_name</c> and <c>tenant</c> tags for a name or id that no event or tenant has.</summary>
    public const string InvalidLabel = "invalid";

    /// <summary>
    /// Whether a tenant id names a configured tenant, set where the configuration is known (in a silo). Other ids are
    /// tagged <c>unknown</c>: labels come from what publishers send, and must not grow with it.
    /// </summary>
    internal Func<string, bool>? IsConfiguredTenant { get; set; }

    public void Published(string tenantId, string eventName) => _published.Add(1, Tags(tenantId, ("event_name", EventLabel(eventName))));

    public void Accepted(string tenantId, string eventName) => _accepted.Add(1, Tags(tenantId, ("event_name", EventLabel(eventName))));

    public void Refused(string tenantId, string reason) => _refused.Add(1, Tags(tenantId, ("reason", reason)));

    public void Filtered(string tenantId, string reason) => _filtered.Add(1, Tags(tenantId, ("reason", reason)));

    public void Dropped(string tenantId, string reason, int count) => _dropped.Add(count, Tags(tenantId, ("reason", reason)));

    public void RetryScheduled(string tenantId) => _retries.Add(1, Tags(tenantId));

    public void Failed(string tenantId, string reason) => _failed.Add(1, Tags(tenantId, ("reason", reason)));

    public void Expired(string tenantId, int count) => _expired.Add(count, Tags(tenantId));

    public void EndpointDisabled(string tenantId) => _disabled.Add(1, Tags(tenantId));

    public void Attempted(string tenantId, string eventName, string outcome, int? statusCode, TimeSpan duration)
    {
        var tags = Tags(tenantId, ("event_name", EventLabel(eventName)), ("outcome", outcome), ("status_class", StatusClass(statusCode)));
        _attempts.Add(1, tags);
        _attemptDuration.Record(duration.TotalSeconds, tags);
    }

    public void Delivered(string tenantId, string eventName, TimeSpan sinceEvent) =>
        _latency.Record(Math.Max(sinceEvent.TotalSeconds, 0), Tags(tenantId, ("event_name", EventLabel(eventName))));

    private static string StatusClass(int? statusCode) => statusCode switch
    {
        >= 100 and < 600 => $"{statusCode / 100}xx",
        _ => "none",
    };

    // An event name that publishers may send is a label only when it is one of the known event types.
    private static string EventLabel(string? eventName) => WebhookEventNames.IsKnown(eventName) ? eventName! : InvalidLabel;

    /// <summary>The <c>tenant</c> tag for <paramref name="tenantId"/>: the id when it is a configured tenant's.</summary>
    internal string TenantLabel(string tenantId) =>
        string.IsNullOrEmpty(tenantId) || WebhookEventRules.TenantIdProblem(tenantId) is not null ? InvalidLabel
        : IsConfiguredTenant is { } configured && !configured(tenantId) ? "unknown"
        : tenantId;

    private TagList Tags(string tenantId, params ReadOnlySpan<(string Key, string Value)> tags)
    {
        var list = new TagList();
        foreach (var (key, value) in tags)
        {
            list.Add(key, value);
        }

        if (_tenantLabels)
        {
            list.Add("tenant", TenantLabel(tenantId));
        }

        return list;
    }
}

/// <summary>The values of the <c>reason</c> tag on <c>webhooks.events.dropped</c>.</summary>
public static class DropReasons
{
    /// <summary>The silo stopped while events were pending in memory storage.</summary>
    public const string Shutdown = "shutdown";

    /// <summary>A tenant kept more failed events than <c>failed.max_per_tenant</c>; the oldest went.</summary>
    public const string FailedStoreFull = "failed_store_full";
}

/// <summary>The values of the <c>reason</c> tag on <c>webhooks.events.refused</c>.</summary>
public static class RefusalReasons
{
    public const string Invalid = "invalid";
    public const string TenantBufferFull = "tenant_buffer_full";
    public const string StreamQueueFull = "stream_queue_full";
    public const string SiloBacklogFull = "silo_backlog_full";

    public static string Of(OverflowReason reason) => reason switch
    {
        OverflowReason.StreamQueueFull => StreamQueueFull,
        OverflowReason.SiloBacklogFull => SiloBacklogFull,
        _ => TenantBufferFull,
    };
}
