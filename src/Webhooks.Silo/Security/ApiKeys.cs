using System.Security.Cryptography;
using System.Text;
using Webhooks.Configuration;
using Webhooks.Security;

namespace Webhooks.Silo.Security;

/// <summary>The API keys in force, kept as SHA-256 digests and compared in constant time.</summary>
internal sealed class ApiKeys
{
    public const string AdminRole = "admin";
    public const string PublisherRole = "publisher";

    private readonly byte[][] _keys;
    private readonly byte[][] _adminKeys;

    private ApiKeys(byte[][] keys, byte[][] adminKeys)
    {
        _keys = keys;
        _adminKeys = adminKeys;
    }

    /// <summary>Whether any key is configured; without one the API is open.</summary>
    public bool Required => _keys.Length + _adminKeys.Length > 0;

    /// <summary>Whether the operator routes take only admin keys.</summary>
    public bool AdminSeparate => _adminKeys.Length > 0;

    /// <summary>
    /// Reads the keys from configuration, resolving references. Refuses, naming the field but never a key, a key that
    /// cannot be resolved or is too short, and an open API that listens beyond loopback.
    /// </summary>
    public static ApiKeys Load(IConfiguration configuration, IEnumerable<string> listenUrls)
    {
        var options = new ApiOptions();
        var origin = new ConfigurationOrigin(configuration);
        origin.Bind(ApiOptions.SectionName, options);
        var problems = new List<string>();
        var keys = Resolve(origin, "keys", options.Keys, problems);
        var adminKeys = Resolve(origin, "admin_keys", options.AdminKeys, problems);
        if (problems.Count > 0)
        {
            throw new WebhookConfigurationException(string.Join(Environment.NewLine + "  ", problems));
        }

        var apiKeys = new ApiKeys(keys, adminKeys);
        var exposed = listenUrls.Where(url => !IsLoopback(url)).ToList();
        if (!apiKeys.Required && exposed.Count > 0)
        {
            throw new WebhookConfigurationException(
                $"{origin.Describe("urls")}: the API listens on {string.Join(", ", exposed)} but no key is set in 'api.keys'; set one, or listen on 127.0.0.1 only");
        }

        return apiKeys;
    }

    /// <summary>The role a presented key grants, or null when it matches none. Every key is compared, always.</summary>
    public string? RoleOf(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var admin = false;
        var publisher = false;
        foreach (var key in _adminKeys)
        {
            admin |= CryptographicOperations.FixedTimeEquals(digest, key);
        }

        foreach (var key in _keys)
        {
            publisher |= CryptographicOperations.FixedTimeEquals(digest, key);
        }

        return admin ? AdminRole : publisher ? PublisherRole : null;
    }

    private static byte[][] Resolve(ConfigurationOrigin origin, string field, List<string> values, List<string> problems)
    {
        var digests = new List<byte[]>();
        for (var i = 0; i < values.Count; i++)
        {
            var location = $"{origin.Describe($"{ApiOptions.SectionName}:{field}:{i}")}: field 'api.{field}.{i}'";
            if (!SecretReferences.TryResolve(values[i], out var key, out var problem))
            {
                problems.Add($"{location} {problem}");
            }
            else if (key is null || key.Length < ApiOptions.MinKeyLength)
            {
                problems.Add($"{location} is shorter than {ApiOptions.MinKeyLength} characters");
            }
            else
            {
                digests.Add(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
            }
        }

        return [.. digests];
    }

    private static bool IsLoopback(string url)
    {
        var normalized = url.Trim().Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
        if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback || (System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
    }
}
