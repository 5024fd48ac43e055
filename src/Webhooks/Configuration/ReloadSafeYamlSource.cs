using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;
using NetEscapades.Configuration.Yaml;

namespace Webhooks.Configuration;

/// <summary>A YAML file source whose provider survives a bad edit; see <see cref="ReloadSafeYamlProvider"/>.</summary>
internal sealed class ReloadSafeYamlSource(bool watch) : YamlConfigurationSource
{
    public override IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        EnsureDefaults(builder);
        return new ReloadSafeYamlProvider(this, watch);
    }
}

/// <summary>
/// Reads a YAML file and, when asked to, watches it. The framework's own reload empties the configuration when an edit
/// does not parse or the file is briefly gone (as while an editor saves it); this one keeps the last good content and
/// records why it did, for <see cref="WebhookSettingsMonitor"/> to log.
/// </summary>
public sealed class ReloadSafeYamlProvider : YamlConfigurationProvider
{
    private static readonly TimeSpan SettleDelay = TimeSpan.FromMilliseconds(250);
    private readonly IDisposable? _watch;

    internal ReloadSafeYamlProvider(YamlConfigurationSource source, bool watch)
        : base(source)
    {
        if (watch && source.FileProvider is { } files && source.Path is { } path)
        {
            _watch = ChangeToken.OnChange(() => files.Watch(path), () => _ = ReloadAfterSettlingAsync());
        }
    }

    /// <summary>Why the latest reload was refused, or null when it succeeded.</summary>
    public string? LastReloadError { get; private set; }

    /// <summary>The file's full path.</summary>
    public string FilePath => Path.Combine((Source.FileProvider as Microsoft.Extensions.FileProviders.PhysicalFileProvider)?.Root ?? "", Source.Path ?? "");

    // Every key, sorted without regard to case, so that the keys under a section form one run found by binary search.
    // The framework's provider scans every key for each section the binder reads, which is quadratic in the number of
    // tenants: at 100,000 of them, start-up and each reload would take minutes.
    private string[]? _sortedKeys;

    public override void Load(Stream stream)
    {
        base.Load(stream);
        _sortedKeys = null;
    }

    public override void Set(string key, string? value)
    {
        base.Set(key, value);
        _sortedKeys = null;
    }

    /// <summary>The names of the sections directly under <paramref name="parentPath"/>, with <paramref name="earlierKeys"/>.</summary>
    public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
    {
        var keys = _sortedKeys ??= SortKeys(Data.Keys);
        var prefix = parentPath is null ? "" : parentPath + ConfigurationPath.KeyDelimiter;
        var results = new List<string>(earlierKeys);
        var first = FirstWithPrefix(keys, prefix);
        string? previous = null;
        for (var i = first; i < keys.Length && keys[i].StartsWith(prefix, StringComparison.OrdinalIgnoreCase); i++)
        {
            var key = keys[i];
            var end = key.IndexOf(ConfigurationPath.KeyDelimiter, prefix.Length, StringComparison.Ordinal);
            var segment = end < 0 ? key[prefix.Length..] : key[prefix.Length..end];

            // Keys of one section are mostly adjacent; the configuration root removes whatever duplicates remain.
            if (!string.Equals(segment, previous, StringComparison.OrdinalIgnoreCase))
            {
                results.Add(segment);
                previous = segment;
            }
        }

        results.Sort(ConfigurationKeyComparer.Instance);
        return results;
    }

    private static string[] SortKeys(ICollection<string> keys)
    {
        var sorted = new string[keys.Count];
        keys.CopyTo(sorted, 0);
        Array.Sort(sorted, StringComparer.OrdinalIgnoreCase);
        return sorted;
    }

    // The index of the first key that is not before prefix, in case-insensitive order.
    private static int FirstWithPrefix(string[] keys, string prefix)
    {
        int low = 0, high = keys.Length;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (StringComparer.OrdinalIgnoreCase.Compare(keys[middle], prefix) < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    protected override void Dispose(bool disposing)
    {
        _watch?.Dispose();
        base.Dispose(disposing);
    }

    private async Task ReloadAfterSettlingAsync()
    {
        // An editor writes in several steps; read once they are done.
        await Task.Delay(SettleDelay);
        var file = Source.FileProvider!.GetFileInfo(Source.Path!);
        if (!file.Exists)
        {
            LastReloadError = $"{FilePath}: the file is missing";
        }
        else
        {
            try
            {
                using var stream = file.CreateReadStream();
                Load(stream);
                LastReloadError = null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LastReloadError = $"{FilePath}: malformed YAML: {YamlConfigurationExtensions.Describe(FilePath, ex)}";
            }
        }

        OnReload();
    }
}
