using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Webhooks.Observability;

/// <summary>The engine's counters and histograms, on one meter named <see cref="MeterName"/>.</summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "Webhooks.Orleans";

    private readonly Counter<long> _published;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _filtered;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _disabled;
    private readonly Histogram<double> _attemptDuration;

    public WebhookMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _published = meter.CreateCounter<long>("webhooks.events.published", "{event}", "Events accepted by a publisher: the gateway or a direct grain publish.");
        _refused = meter.CreateCounter<long>("webhooks.events.refused", "{event}", "Events refused at publish, by reason.");
        _filtered = meter.CreateCounter<long>("webhooks.events.filtered", "{event}", "Events that a rule kept from delivery, by reason.");
        _dropped = meter.CreateCounter<long>("webhooks.events.dropped", "{event}", "Accepted events dropped before delivery, by reason.");
        _attempts = meter.CreateCounter<long>("webhooks.delivery.attempts", "{attempt}", "Delivery attempts, by event type and outcome.");
        _attemptDuration = meter.CreateHistogram<double>("webhooks.delivery.duration", "s", "Duration of delivery attempts.");
        _retries = meter.CreateCounter<long>("webhooks.delivery.retries", "{retry}", "Failed attempts scheduled for a retry.");
        _failed = meter.CreateCounter<long>("webhooks.events.failed", "{event}", "Events given up on and kept as failed, by reason.");
        _expired = meter.CreateCounter<long>("webhooks.events.expired", "{event}", "Failed events removed after their retention.");
        _disabled = meter.CreateCounter<long>("webhooks.endpoints.disabled", "{endpoint}", "Endpoints disabled for failing.");
    }

    public void Published(string eventName) => _published.Add(1, new KeyValuePair<string, object?>("event_name", eventName));

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Filtered(string reason) => _filtered.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dropped(string reason, int count) => _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    public void RetryScheduled() => _retries.Add(1);

    public void Failed(string reason) => _failed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Expired(int count) => _expired.Add(count);

    public void EndpointDisabled() => _disabled.Add(1);

    public void Attempted(string eventName, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "event_name", eventName }, { "outcome", outcome } };
        _attempts.Add(1, tags);
        _attemptDuration.Record(duration.TotalSeconds, tags);
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

    public static string Of(OverflowReason reason) => reason == OverflowReason.StreamQueueFull ? StreamQueueFull : TenantBufferFull;
}
