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
