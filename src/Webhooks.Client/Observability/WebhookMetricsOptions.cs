using Microsoft.Extensions.Configuration;

namespace Webhooks.Observability;

/// <summary>The <c>observability</c> section of <c>silo.yaml</c>, as far as the engine's own measurements go.</summary>
public sealed class WebhookMetricsOptions
{
    public const string SectionName = "observability";

    /// <summary>
    /// Adds a <c>tenant</c> tag to every measurement. Off by default: with 100,000 tenants it would multiply each series
    /// by as much. Turn it on for a few tenants, or where the metrics backend copes.
    /// </summary>
    [ConfigurationKeyName("tenant_labels")]
    public bool TenantLabels { get; set; }
}
