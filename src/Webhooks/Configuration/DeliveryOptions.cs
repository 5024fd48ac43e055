using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>The <c>delivery</c> section of <c>silo.yaml</c>: how each tenant's events are sent.</summary>
public sealed class DeliveryOptions
{
    public const string SectionName = "delivery";

    /// <summary>How long one delivery may take, from connecting to the end of the response headers.</summary>
    [ConfigurationKeyName("timeout")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many deliveries one tenant may have in flight at once.</summary>
    [ConfigurationKeyName("max_concurrency")]
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>How many events one tenant may have waiting for delivery; past it, publishers get backpressure.</summary>
    [ConfigurationKeyName("buffer_size")]
    public int BufferSize { get; set; } = 1024;

    /// <summary>How much of a response body is kept for the failure log.</summary>
    [ConfigurationKeyName("response_excerpt_bytes")]
    public int ResponseExcerptBytes { get; set; } = 512;

    /// <summary>The <c>User-Agent</c> header on deliveries.</summary>
    [ConfigurationKeyName("user_agent")]
    public string UserAgent { get; set; } = "Webhooks.Orleans/0.1";
}
