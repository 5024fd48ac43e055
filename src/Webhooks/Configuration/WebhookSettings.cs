using System.Collections.Frozen;

namespace Webhooks.Configuration;

/// <summary>
/// <c>tenants.yaml</c> compiled for delivery: parsed endpoints, header lists and exclusion sets. Immutable; a configuration
/// change replaces it as a whole.
/// </summary>
internal sealed class WebhookSettings
{
    private WebhookSettings(bool enabled, string topic, FrozenDictionary<string, TenantEndpoint> tenants)
    {
        Enabled = enabled;
        Topic = topic;
        Tenants = tenants;
    }

    public bool Enabled { get; }

    public string Topic { get; }

    public FrozenDictionary<string, TenantEndpoint> Tenants { get; }

    public TenantEndpoint? Find(string tenantId) => Tenants.GetValueOrDefault(tenantId);

    /// <summary>Compiles validated options.</summary>
    public static WebhookSettings Compile(WebhookOptions options)
    {
        var tenants = options.Tenants.ToFrozenDictionary(
            pair => pair.Key,
            pair => TenantEndpoint.Compile(pair.Key, pair.Value),
            StringComparer.Ordinal);
        return new WebhookSettings(options.Enabled, options.Topic, tenants);
    }
}

/// <summary>One tenant's compiled endpoint.</summary>
internal sealed record TenantEndpoint(
    string TenantId,
    Uri? Endpoint,
    KeyValuePair<string, string>[] Headers,
    bool Enabled,
    FrozenSet<string> ExcludedEvents,
    IReadOnlyList<TimeSpan>? RetrySchedule)
{
    public static TenantEndpoint Compile(string tenantId, TenantWebhookOptions options) => new(
        tenantId,
        string.IsNullOrWhiteSpace(options.Endpoint) ? null : new Uri(options.Endpoint, UriKind.Absolute),
        [.. options.Headers.Select(header => KeyValuePair.Create(header.Key, header.Value ?? ""))],
        options.Enabled,
        options.ExcludedEvents.ToFrozenSet(StringComparer.Ordinal),
        options.RetrySchedule?.ToArray());
}
