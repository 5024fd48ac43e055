namespace Webhooks;

/// <summary>What one tenant grain has done since it was activated.</summary>
[GenerateSerializer, Immutable, Alias("webhooks.TenantWebhookStats")]
public sealed record TenantWebhookStats
{
    /// <summary>
    /// Events that reached the grain, from the stream or a direct publish. Each ends up delivered, failed, filtered or
    /// dropped, or is still buffered or in flight.
    /// </summary>
    [Id(0)] public long Received { get; init; }

    /// <summary>Events answered with a 2xx.</summary>
    [Id(1)] public long Delivered { get; init; }

    /// <summary>Events given up on and kept as failed (retries exhausted, endpoint gone or disabled).</summary>
    [Id(2)] public long Failed { get; init; }

    /// <summary>Events that a rule kept from delivery, by reason (see <see cref="FilterReasons"/>).</summary>
    [Id(3)] public IReadOnlyDictionary<string, long> Filtered { get; init; } = new Dictionary<string, long>();

    /// <summary>Direct publishes refused because the buffer was full. Gateway refusals are counted by the gateway.</summary>
    [Id(4)] public long Refused { get; init; }

    /// <summary>Events dropped because the grain was deactivated before it could deliver them.</summary>
    [Id(5)] public long Dropped { get; init; }

    /// <summary>Events waiting in the buffer now.</summary>
    [Id(6)] public int Buffered { get; init; }

    /// <summary>Deliveries in flight now.</summary>
    [Id(7)] public int InFlight { get; init; }

    /// <summary>Credits granted to gateways whose events have not arrived yet.</summary>
    [Id(8)] public int Reserved { get; init; }

    /// <summary>Events waiting for a retry now.</summary>
    [Id(9)] public int Retrying { get; init; }

    /// <summary>Failed events kept for replay now.</summary>
    [Id(10)] public int FailedKept { get; init; }

    /// <summary>Failed attempts that were retried.</summary>
    [Id(11)] public long Retries { get; init; }

    /// <summary>Direct publishes waiting for room now, for up to <c>ingest.max_wait</c>; each gets in or is refused.</summary>
    [Id(12)] public int WaitingForRoom { get; init; }

    /// <summary>Total filtered events, whatever the reason.</summary>
    public long FilteredTotal => Filtered.Values.Sum();
}
