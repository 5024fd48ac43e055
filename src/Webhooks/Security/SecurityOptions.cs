using Microsoft.Extensions.Configuration;

namespace Webhooks.Security;

/// <summary>The <c>security</c> section of <c>silo.yaml</c>: where deliveries may go.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "security";

    /// <summary>
    /// Networks (CIDR, such as <c>10.1.0.0/16</c> or <c>127.0.0.1/32</c>) that deliveries may reach although the SSRF
    /// guard blocks their range by default.
    /// </summary>
    [ConfigurationKeyName("allowed_networks")]
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>When true, every endpoint must be <c>https</c>.</summary>
    [ConfigurationKeyName("require_https")]
    public bool RequireHttps { get; set; }
}
