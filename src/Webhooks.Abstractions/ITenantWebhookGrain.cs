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
}
