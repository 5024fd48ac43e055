using Microsoft.Extensions.Configuration;

namespace Webhooks.Ingest;

/// <summary>How the gateway behaves when a bound is hit. Bound from the <c>ingest</c> section of <c>silo.yaml</c>.</summary>
public sealed class WebhookPublisherOptions
{
    public const string SectionName = "ingest";

    /// <summary>
    /// How long a publish may wait for room when the tenant's buffer or the stream queue is full, before it fails with
    /// <see cref="WebhookOverflowException"/>. Zero refuses at once.
    /// </summary>
    [ConfigurationKeyName("max_wait")]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The <c>Retry-After</c> given when the stream queue is full.</summary>
    [ConfigurationKeyName("retry_after")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);
}
