using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>The <c>webhook</c> section of <c>tenants.yaml</c>: the switch, the topic and every tenant's endpoint.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "webhook";

    /// <summary>Delivers nothing when false; events are still accepted, then counted as filtered.</summary>
    [ConfigurationKeyName("enabled")]
    public bool Enabled { get; set; } = true;

    /// <summary>The stream namespace that carries events to tenant grains.</summary>
    [ConfigurationKeyName("topic")]
    public string Topic { get; set; } = WebhookStreams.DefaultTopic;

    /// <summary>Each tenant's endpoint, keyed by tenant id.</summary>
    [ConfigurationKeyName("tenants")]
    public Dictionary<string, TenantWebhookOptions> Tenants { get; set; } = new(StringComparer.Ordinal);
}
