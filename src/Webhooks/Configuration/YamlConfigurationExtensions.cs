using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Webhooks.Configuration;

/// <summary>Loads <c>silo.yaml</c> and <c>tenants.yaml</c>, reporting a malformed file by name.</summary>
public static class YamlConfigurationExtensions
{
    /// <summary>
    /// Adds a YAML file. A file that does not parse fails with a <see cref="WebhookConfigurationException"/> naming the
    /// file and the position of the error. With <paramref name="reloadOnChange"/>, edits are picked up while running;
    /// an edit that does not parse, or a file that disappears, leaves the last good content in force.
    /// </summary>
    public static IConfigurationBuilder AddWebhooksYamlFile(this IConfigurationBuilder builder, string path, bool optional = false, bool reloadOnChange = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var fullPath = Path.GetFullPath(path);
        var source = new ReloadSafeYamlSource(reloadOnChange)
        {
            Path = fullPath,
            Optional = optional,
            ReloadOnChange = false,
            OnLoadException = context => throw new WebhookConfigurationException(
                $"{fullPath}: malformed YAML: {Describe(fullPath, context.Exception)}", context.Exception),
        };
        source.ResolveFileProvider();
        return builder.Add(source);
    }

    // The configuration provider reports the parser's complaint without its position; parsing again recovers it.
    internal static string Describe(string path, Exception exception)
    {
        try
        {
            using var reader = new StreamReader(path);
            new YamlStream().Load(reader);
        }
        catch (YamlException yaml)
        {
            return $"line {yaml.Start.Line}, column {yaml.Start.Column}: {yaml.Message}";
        }
        catch (IOException)
        {
        }

        var innermost = exception;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost.Message;
    }
}
