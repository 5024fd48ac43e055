using System.Text;

namespace Webhooks.Benchmarks.Harness;

/// <summary>Writes a <c>tenants.yaml</c> for the benchmark's tenants into a temporary file that is removed on exit.</summary>
internal static class TenantsFile
{
    public static string Write(IEnumerable<(string Id, string Endpoint)> tenants)
    {
        var yaml = new StringBuilder("webhook:\n  tenants:\n");
        foreach (var (id, endpoint) in tenants)
        {
            yaml.Append("    ").Append(id).Append(":\n      endpoint: ").Append(endpoint).Append('\n');
        }

        var path = Path.Combine(Path.GetTempPath(), $"webhooks-benchmark-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml.ToString());
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    }
}
