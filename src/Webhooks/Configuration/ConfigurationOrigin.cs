using System.Collections;
using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.FileProviders;

namespace Webhooks.Configuration;

/// <summary>Names where a configuration value came from, so that an error can point at the file to fix.</summary>
public sealed partial class ConfigurationOrigin(IConfiguration configuration)
{
    private static readonly ConcurrentDictionary<Type, Dictionary<string, BindableProperty>> BindableProperties = new();

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
        var section = Configuration.GetSection(sectionPath);
        try
        {
            section.Bind(target);
        }
        catch (InvalidOperationException ex)
        {
            var key = FailingKey(ex, sectionPath);
            throw new WebhookConfigurationException($"{Describe(key)}: field '{key.Replace(':', '.')}' has a value of the wrong type: {ex.Message}", ex);
        }

        var problems = new List<string>();
        CheckCollections(section, target, problems);
        if (problems.Count > 0)
        {
            throw new WebhookConfigurationException(string.Join(Environment.NewLine + "  ", problems));
        }
    }

    // The binder names the failing key after "at", as in "... value '00:00:1x' at 'delivery:timeout' to type ...".
    [GeneratedRegex("at '([^']+)'")]
    private static partial Regex BinderKey();

    private static string FailingKey(InvalidOperationException ex, string fallback) =>
        BinderKey().Match(ex.Message) is { Success: true } match ? match.Groups[1].Value : fallback;

    // The binder passes over a single value where a list or map is expected, and over an entry of a list or map that
    // it cannot convert: an exclusion, a header or an API key would be gone without a word. Each is an error instead.
    // Values are never repeated: they may be secrets.
    private void CheckCollections(IConfigurationSection section, object target, List<string> problems)
    {
        // Only the keys present are looked at: listing a section's children asks every configuration provider.
        var properties = BindableProperties.GetOrAdd(target.GetType(), Bindable);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                continue;
            }

            var value = property.Info.GetValue(target);
            if (property.ElementType is not { } elementType)
            {
                if (value is not null && IsOptions(property.Info.PropertyType))
                {
                    CheckCollections(child, value, problems);
                }

                continue;
            }

            var field = child.Path.Replace(':', '.');
            var entries = child.GetChildren().ToList();
            if (entries.Count == 0 && !string.IsNullOrEmpty(child.Value))
            {
                problems.Add($"{Describe(child.Path)}: field '{field}' must be a {(typeof(IDictionary).IsAssignableFrom(property.Info.PropertyType) ? "map" : "list")}, not a single value");
                continue;
            }

            var bound = value is ICollection collection ? collection.Count : 0;
            if (bound < entries.Count)
            {
                var before = problems.Count;
                foreach (var entry in entries)
                {
                    if (Unreadable(entry, elementType) is { } problem)
                    {
                        problems.Add(problem);
                    }
                }

                if (problems.Count == before)
                {
                    problems.Add($"{Describe(child.Path)}: field '{field}' has {entries.Count - bound} of its {entries.Count} entries that could not be read");
                }

                continue;
            }

            if (!IsOptions(elementType))
            {
                continue;
            }

            foreach (var entry in entries)
            {
                var element = value switch
                {
                    IDictionary map => map.Contains(entry.Key) ? map[entry.Key] : null,
                    IList list when int.TryParse(entry.Key, out var index) && index >= 0 && index < list.Count => list[index],
                    _ => null,
                };

                if (element is not null)
                {
                    CheckCollections(entry, element, problems);
                }
            }
        }
    }

    // The settable properties the binder fills, by their configuration key; a list's or map's carries its element type.
    private static Dictionary<string, BindableProperty> Bindable(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.CanWrite && property.GetIndexParameters().Length == 0)
            .ToDictionary(
                property => property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name,
                property => new BindableProperty(property, ElementType(property.PropertyType)),
                StringComparer.OrdinalIgnoreCase);

    private static Type? ElementType(Type type) =>
        type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type) ? null
        : type.IsArray ? type.GetElementType()
        : type.IsGenericType ? type.GetGenericArguments()[^1]
        : typeof(object);

    // Why an entry of a list or map does not read as its element type, as the binder reads it; null when it does.
    private string? Unreadable(IConfigurationSection entry, Type elementType)
    {
        var field = entry.Path.Replace(':', '.');
        if (IsOptions(elementType))
        {
            if (entry.Value is not null)
            {
                return $"{Describe(entry.Path)}: field '{field}' must be a map of settings, not a single value";
            }

            try
            {
                entry.Get(elementType);
                return null;
            }
            catch (InvalidOperationException ex)
            {
                var key = FailingKey(ex, entry.Path);
                return $"{Describe(key)}: field '{key.Replace(':', '.')}' has a value of the wrong type";
            }
        }

        try
        {
            if (entry.Value is not null && TypeDescriptor.GetConverter(elementType).ConvertFromInvariantString(entry.Value) is not null)
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
        }

        var expected = elementType == typeof(string) ? "must be a single value, not a list or map"
            : elementType == typeof(TimeSpan) ? "is not a duration such as 00:05:00"
            : $"is not a valid {elementType.Name}";
        return $"{Describe(entry.Path)}: field '{field}' {expected}";
    }

    private sealed record BindableProperty(PropertyInfo Info, Type? ElementType);

    // The engine's own option classes, whose properties are walked; not strings, values or framework types.
    private static bool IsOptions(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith(nameof(Webhooks), StringComparison.Ordinal) == true;

    private static string Name(IConfigurationProvider provider) => provider switch
    {
        FileConfigurationProvider { Source: { FileProvider: PhysicalFileProvider files, Path: { } path } } => Path.Combine(files.Root, path),
        FileConfigurationProvider { Source.Path: { } path } => path,
        EnvironmentVariablesConfigurationProvider => "environment variables",
        CommandLineConfigurationProvider => "command line",
        _ => provider.ToString() ?? provider.GetType().Name,
    };
}
