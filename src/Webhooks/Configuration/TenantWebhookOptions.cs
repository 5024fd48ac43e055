using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>One tenant's entry under <c>webhook.tenants</c>.</summary>
public sealed class TenantWebhookOptions
{
    /// <summary>The absolute http(s) URL that receives the tenant's events. Required when the tenant is enabled.</summary>
    [ConfigurationKeyName("endpoint")]
    public string? Endpoint { get; set; }

    /// <summary>Headers sent with every delivery, such as an API key.</summary>
    [ConfigurationKeyName("headers")]
    public Dictionary<string, string> Headers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Delivers nothing to this tenant when false.</summary>
    [ConfigurationKeyName("enabled")]
    public bool Enabled { get; set; } = true;

    /// <summary>Event names never delivered to this tenant.</summary>
    [ConfigurationKeyName("excluded_events")]
    public List<string> ExcludedEvents { get; set; } = [];

    /// <summary>This tenant's own waits before each retry, instead of <c>delivery.retry_schedule</c>.</summary>
    [ConfigurationKeyName("retry_schedule")]
    public List<TimeSpan>? RetrySchedule { get; set; }

    /// <summary>
    /// The Standard Webhooks signing secret (<c>whsec_…</c>); deliveries are signed when it is set. Like header values, it
    /// may be <c>${env:NAME}</c> or <c>${file:/path}</c>.
    /// </summary>
    [ConfigurationKeyName("secret")]
    public string? Secret { get; set; }

    /// <summary>Secrets being rotated out: each still signs, beside <see cref="Secret"/>, until it expires.</summary>
    [ConfigurationKeyName("previous_secrets")]
    public List<PreviousSecretOptions> PreviousSecrets { get; set; } = [];
}

/// <summary>A signing secret being rotated out, under <c>previous_secrets</c>.</summary>
public sealed class PreviousSecretOptions
{
    [ConfigurationKeyName("secret")]
    public string? Secret { get; set; }

    /// <summary>When it stops signing. Required.</summary>
    [ConfigurationKeyName("expires_at")]
    public DateTimeOffset? ExpiresAt { get; set; }
}
