namespace Webhooks.Silo.Security;

/// <summary>The <c>api</c> section of <c>silo.yaml</c>: who may call <c>/v1</c>.</summary>
internal sealed class ApiOptions
{
    public const string SectionName = "api";
    public const int MinKeyLength = 16;

    /// <summary>
    /// Keys accepted as <c>Authorization: Bearer …</c> on <c>/v1</c>. Each may be <c>${env:NAME}</c> or
    /// <c>${file:/path}</c>. With none, the API is open, which is allowed only while it listens on loopback.
    /// </summary>
    [ConfigurationKeyName("keys")]
    public List<string> Keys { get; set; } = [];

    /// <summary>When set, the operator routes (<c>/v1/tenants/…</c>) take only these keys.</summary>
    [ConfigurationKeyName("admin_keys")]
    public List<string> AdminKeys { get; set; } = [];
}
