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

    /// <summary>Secret references (<c>${env:…}</c>, <c>${file:…}</c>) that could not be resolved, reported by validation.</summary>
    internal List<(string Tenant, string Field, string Problem)> UnresolvedReferences { get; } = [];

    /// <summary>Replaces every secret reference in header values and secrets with what it names.</summary>
    internal void ResolveSecretReferences()
    {
        foreach (var (tenantId, tenant) in Tenants)
        {
            foreach (var header in tenant.Headers.Keys.ToList())
            {
                tenant.Headers[header] = Resolve(tenantId, $"headers.{header}", tenant.Headers[header]) ?? "";
            }

            tenant.Secret = Resolve(tenantId, "secret", tenant.Secret);
            for (var i = 0; i < tenant.PreviousSecrets.Count; i++)
            {
                tenant.PreviousSecrets[i].Secret = Resolve(tenantId, $"previous_secrets.{i}.secret", tenant.PreviousSecrets[i].Secret);
            }
        }

        string? Resolve(string tenantId, string field, string? value)
        {
            if (Security.SecretReferences.TryResolve(value, out var resolved, out var problem))
            {
                return resolved;
            }

            UnresolvedReferences.Add((tenantId, field, problem!));
            return null;
        }
    }
}
