using System.Text;

namespace Webhooks.Tests.Infrastructure;

/// <summary>Writes a <c>tenants.yaml</c> for a test.</summary>
public class TenantsYaml
{
    private readonly StringBuilder _tenants = new();

    public bool Enabled { get; init; } = true;

    public string? Topic { get; init; }

    public TenantsYaml Tenant(string id, string endpoint, IReadOnlyDictionary<string, string>? headers = null, bool enabled = true, string[]? retrySchedule = null, params string[] excluded)
    {
        _tenants.Append("    ").Append(Quote(id)).AppendLine(":");
        _tenants.Append("      endpoint: ").AppendLine(Quote(endpoint));
        _tenants.Append("      enabled: ").AppendLine(enabled ? "true" : "false");
        if (headers is { Count: > 0 })
        {
            _tenants.AppendLine("      headers:");
            foreach (var (name, value) in headers)
            {
                _tenants.Append("        ").Append(name).Append(": ").AppendLine(Quote(value));
            }
        }

        if (retrySchedule is not null)
        {
            _tenants.Append("      retry_schedule: [").Append(string.Join(", ", retrySchedule)).AppendLine("]");
        }

        if (excluded.Length > 0)
        {
            _tenants.Append("      excluded_events: [").Append(string.Join(", ", excluded)).AppendLine("]");
        }

        return this;
    }

    public override string ToString()
    {
        var yaml = new StringBuilder("webhook:\n");
        yaml.Append("  enabled: ").AppendLine(Enabled ? "true" : "false");
        if (Topic is not null)
        {
            yaml.Append("  topic: ").AppendLine(Topic);
        }

        yaml.AppendLine(_tenants.Length == 0 ? "  tenants: {}" : "  tenants:");
        return yaml.Append(_tenants).ToString();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
