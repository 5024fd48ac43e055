using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.FileProviders;

namespace Webhooks.Configuration;

/// <summary>Names where a configuration value came from, so that an error can point at the file to fix.</summary>
public sealed class ConfigurationOrigin(IConfiguration configuration)
{
    /// <summary>The raw configuration the engine was set up with.</summary>
    public IConfiguration Configuration { get; } = configuration;

    /// <summary>The source that supplies <paramref name="path"/> (a key or a section): a file path, or the kind of source.</summary>
    public string Describe(string path)
    {
        if (Configuration is IConfigurationRoot root)
        {
            foreach (var provider in root.Providers.Reverse())
            {
                if (provider.TryGet(path, out _) || provider.GetChildKeys([], path).Any())
                {
                    return Name(provider);
                }
            }
        }

        return "configuration";
    }

    /// <summary>
    /// Binds the section at <paramref name="sectionPath"/> to <paramref name="target"/>, turning a value of the wrong
    /// type into an error that names the file and the field.
    /// </summary>
    public void Bind(string sectionPath, object target)
    {
        try
        {
            Configuration.GetSection(sectionPath).Bind(target);
        }
        catch (InvalidOperationException ex)
        {
            var key = QuotedKey(ex.Message) ?? sectionPath;
            throw new WebhookConfigurationException($"{Describe(key)}: field '{key.Replace(':', '.')}' has a value of the wrong type: {ex.Message}", ex);
        }
    }

    // The binder names the failing key in quotes, as in "... at 'delivery:timeout' to type ...".
    private static string? QuotedKey(string message) =>
        message.Split('\'').Where((_, index) => index % 2 == 1).FirstOrDefault(part => part.Contains(':', StringComparison.Ordinal));

    private static string Name(IConfigurationProvider provider) => provider switch
    {
        FileConfigurationProvider { Source: { FileProvider: PhysicalFileProvider files, Path: { } path } } => Path.Combine(files.Root, path),
        FileConfigurationProvider { Source.Path: { } path } => path,
        EnvironmentVariablesConfigurationProvider => "environment variables",
        CommandLineConfigurationProvider => "command line",
        _ => provider.ToString() ?? provider.GetType().Name,
    };
}
