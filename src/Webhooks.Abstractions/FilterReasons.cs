namespace Webhooks;

/// <summary>Why a rule kept an event from delivery. Used in logs, counters and <see cref="TenantWebhookStats"/>.</summary>
public static class FilterReasons
{
    /// <summary><c>webhook.enabled</c> is false.</summary>
    public const string WebhooksDisabled = "webhooks_disabled";

    /// <summary>The tenant is not in <c>webhook.tenants</c>.</summary>
    public const string UnknownTenant = "unknown_tenant";

    /// <summary>The tenant's <c>enabled</c> is false.</summary>
    public const string TenantDisabled = "tenant_disabled";

    /// <summary>The event's name is in the tenant's <c>excluded_events</c>.</summary>
    public const string EventExcluded = "event_excluded";

    /// <summary>The tenant already accepted an event with this id within the idempotency window.</summary>
    public const string Duplicate = "duplicate";
}
