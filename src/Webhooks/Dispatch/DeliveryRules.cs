using Webhooks.Configuration;

namespace Webhooks.Dispatch;

/// <summary>The tenant rules of the PRD: which events are kept from delivery, and why.</summary>
internal static class DeliveryRules
{
    /// <summary>Returns why <paramref name="eventName"/> must not be delivered to <paramref name="tenant"/>, or null to deliver it.</summary>
    public static string? FilterReason(WebhookSettings settings, TenantEndpoint? tenant, string eventName) =>
        !settings.Enabled ? FilterReasons.WebhooksDisabled
        : tenant is null ? FilterReasons.UnknownTenant
        : !tenant.Enabled || tenant.Endpoint is null ? FilterReasons.TenantDisabled
        : tenant.ExcludedEvents.Contains(eventName) ? FilterReasons.EventExcluded
        : null;
}
