namespace Webhooks;

/// <summary>
/// One tenant's webhook endpoint: it holds the tenant's configuration, buffers the tenant's events and delivers them.
/// Keyed by tenant id.
/// </summary>
public interface ITenantWebhookGrain : IGrainWithStringKey
{
    /// <summary>
    /// Publishes an event straight to this tenant, without the stream hop. Validation and bounds are the same as for
    /// <see cref="IWebhookPublisher"/>. Returns the event id.
    /// </summary>
    /// <exception cref="WebhookValidationException">The event is malformed, or names another tenant.</exception>
    /// <exception cref="WebhookOverflowException">The tenant's buffer is full.</exception>
    Task<string> Publish(WebhookEvent webhookEvent);

    /// <summary>
    /// Reserves room in this tenant's buffer for up to <paramref name="requested"/> events that the caller is about to
    /// publish through the stream. Used by the gateway; the grant may be smaller, or zero when the buffer is full.
    /// </summary>
    Task<AdmissionGrant> Admit(int requested);

    /// <summary>Counters of what this tenant's grain has done since it was activated.</summary>
    Task<TenantWebhookStats> GetStats();

    /// <summary>The events kept as failed, oldest first.</summary>
    Task<FailedDelivery[]> GetFailed();

    /// <summary>Moves one failed event back to delivery, with a fresh retry schedule.</summary>
    /// <exception cref="InvalidOperationException">The endpoint is disabled; enable it first.</exception>
    Task<ReplayResult> Replay(string eventId);

    /// <summary>Moves every event that failed at or after <paramref name="since"/> back to delivery.</summary>
    /// <exception cref="InvalidOperationException">The endpoint is disabled; enable it first.</exception>
    Task<ReplayResult> ReplaySince(DateTimeOffset since);

    /// <summary>The latest delivery attempts, newest first, at most <paramref name="limit"/>.</summary>
    Task<DeliveryAttempt[]> GetAttempts(int limit);

    /// <summary>Whether the endpoint receives deliveries, and its run of failures.</summary>
    Task<EndpointStatus> GetEndpointStatus();

    /// <summary>Enables a disabled endpoint. Failed events stay failed until replayed.</summary>
    Task<EndpointStatus> Enable();
}
