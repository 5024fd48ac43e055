using System.Collections.Frozen;
using Webhooks.Security;

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

    /// <summary>These settings on <paramref name="topic"/>.</summary>
    public WebhookSettings WithTopic(string topic) => topic == Topic ? this : new(Enabled, topic, Tenants);

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

/// <summary>One tenant's compiled endpoint. Holds secrets: its text form shows the tenant and endpoint only.</summary>
internal sealed class TenantEndpoint
{
    private readonly SigningKey[] _signingKeys;

    private TenantEndpoint(string tenantId, Uri? endpoint, KeyValuePair<string, string>[] headers, bool enabled, FrozenSet<string> excludedEvents, IReadOnlyList<TimeSpan>? retrySchedule, SigningKey[] signingKeys)
    {
        TenantId = tenantId;
        Endpoint = endpoint;
        Headers = headers;
        Enabled = enabled;
        ExcludedEvents = excludedEvents;
        RetrySchedule = retrySchedule;
        _signingKeys = signingKeys;
    }

    public string TenantId { get; }

    public Uri? Endpoint { get; }

    public KeyValuePair<string, string>[] Headers { get; }

    public bool Enabled { get; }

    public FrozenSet<string> ExcludedEvents { get; }

    public IReadOnlyList<TimeSpan>? RetrySchedule { get; }

    public bool Signs => _signingKeys.Length > 0;

    /// <summary>The keys that sign at <paramref name="now"/>: the current secret and the rotated-out ones not yet expired.</summary>
    public IReadOnlyList<byte[]> SigningKeysAt(DateTimeOffset now) =>
        [.. _signingKeys.Where(key => key.ExpiresAt is null || key.ExpiresAt > now).Select(key => key.Key)];

    /// <summary>Compiles validated options, whose secret references are already resolved.</summary>
    public static TenantEndpoint Compile(string tenantId, TenantWebhookOptions options)
    {
        var keys = new List<SigningKey>();
        if (SigningSecret.TryDecode(options.Secret, out _) is { } current)
        {
            keys.Add(new SigningKey(current, null));
        }

        foreach (var previous in options.PreviousSecrets)
        {
            if (SigningSecret.TryDecode(previous.Secret, out _) is { } key)
            {
                keys.Add(new SigningKey(key, previous.ExpiresAt));
            }
        }

        return new(
            tenantId,
            string.IsNullOrWhiteSpace(options.Endpoint) ? null : new Uri(options.Endpoint, UriKind.Absolute),
            [.. options.Headers.Select(header => KeyValuePair.Create(header.Key, header.Value ?? ""))],
            options.Enabled,
            options.ExcludedEvents.ToFrozenSet(StringComparer.Ordinal),
            options.RetrySchedule?.ToArray(),
            [.. keys]);
    }

    public override string ToString() => $"{TenantId} -> {Endpoint?.GetLeftPart(UriPartial.Path)}";

    private sealed record SigningKey(byte[] Key, DateTimeOffset? ExpiresAt);
}
