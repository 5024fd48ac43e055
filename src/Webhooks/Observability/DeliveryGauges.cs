using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Webhooks.Observability;

/// <summary>
/// Gauges of what the tenant grains of this silo hold: events waiting, in flight, waiting for a retry, kept as failed,
/// and endpoints disabled. Each active grain registers itself as an <see cref="ITenantLoad"/>; a scrape reads them.
/// </summary>
internal sealed class DeliveryGauges
{
    private readonly ConcurrentDictionary<string, ITenantLoad> _tenants = new(StringComparer.Ordinal);
    private readonly WebhookMetrics _metrics;

    public DeliveryGauges(WebhookMetrics metrics)
    {
        _metrics = metrics;
        var meter = metrics.Meter;
        meter.CreateObservableGauge("webhooks.buffer.depth", () => Observe(load => load.Buffered), "{event}", "Events waiting for a delivery slot.");
        meter.CreateObservableGauge("webhooks.deliveries.in_flight", () => Observe(load => load.InFlight), "{event}", "Deliveries in flight.");
        meter.CreateObservableGauge("webhooks.retries.pending", () => Observe(load => load.Retrying), "{event}", "Events waiting for a retry.");
        meter.CreateObservableGauge("webhooks.failed.kept", () => Observe(load => load.Failed), "{event}", "Failed events kept for replay.");
        meter.CreateObservableGauge("webhooks.endpoints.down", () => Observe(load => load.Disabled ? 1 : 0), "{endpoint}", "Endpoints disabled now.");
        meter.CreateObservableGauge("webhooks.tenants.active", () => _tenants.Count, "{tenant}", "Tenant grains active in this silo.");
    }

    public void Track(string tenantId, ITenantLoad load) => _tenants[tenantId] = load;

    public void Untrack(string tenantId, ITenantLoad load) => _tenants.TryRemove(KeyValuePair.Create(tenantId, load));

    private IEnumerable<Measurement<long>> Observe(Func<ITenantLoad, int> read)
    {
        if (_metrics.TenantLabels)
        {
            // Grains of tenants that are not configured share one label.
            return _tenants
                .GroupBy(pair => _metrics.TenantLabel(pair.Key), pair => (long)read(pair.Value), StringComparer.Ordinal)
                .Select(group => new Measurement<long>(group.Sum(), new KeyValuePair<string, object?>("tenant", group.Key)));
        }

        return [new Measurement<long>(_tenants.Values.Sum(load => (long)read(load)))];
    }
}

/// <summary>
/// One tenant grain's current load, read by scrapes off the grain's scheduler: each value is one word, read as it
/// stands, so a scrape may see it a moment late but never torn.
/// </summary>
internal interface ITenantLoad
{
    int Buffered { get; }

    int InFlight { get; }

    int Retrying { get; }

    int Failed { get; }

    bool Disabled { get; }
}
