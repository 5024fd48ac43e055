using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>Loads <c>silo.yaml</c> and <c>tenants.yaml</c>, reporting a malformed file by name.</summary>
public static class YamlConfigurationExtensions
{
    /// <summary>
    /// Adds a YAML file. A file that does not parse fails with a <see cref="WebhookConfigurationException"/> naming the
    /// file and the position of the error.
    /// </summary>
    public static IConfigurationBuilder AddWebhooksYamlFile(this IConfigurationBuilder builder, string path, bool optional = false, bool reloadOnChange = false)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var fullPath = Path.GetFullPath(path);
        return builder.AddYamlFile(source =>
        {
            source.Path = fullPath;
            source.Optional = optional;
            source.ReloadOnChange = reloadOnChange;
            source.ResolveFileProvider();
            source.OnLoadException = context => throw new WebhookConfigurationException(
                $"{fullPath}: malformed YAML: {Describe(context.Exception)}", context.Exception);
        });
    }

    private static string Describe(Exception exception)
    {
        // The YAML parser's own message carries the line and column; wrappers around it add nothing.
        var innermost = exception;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost == exception ? exception.Message : $"{exception.Message} {innermost.Message}";
    }
}
