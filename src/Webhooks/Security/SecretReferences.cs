namespace Webhooks.Security;

/// <summary>
/// Lets a configuration value name where a secret lives instead of holding it: <c>${env:NAME}</c> reads an environment
/// variable, <c>${file:/path}</c> reads a file (a trailing line break is dropped). Any other value is taken as written.
/// </summary>
public static class SecretReferences
{
    private const string EnvPrefix = "${env:";
    private const string FilePrefix = "${file:";

    /// <summary>Whether <paramref name="value"/> names a secret rather than holding one.</summary>
    public static bool IsReference(string? value) =>
        value is not null && value.EndsWith('}') && (value.StartsWith(EnvPrefix, StringComparison.Ordinal) || value.StartsWith(FilePrefix, StringComparison.Ordinal));

    /// <summary>
    /// Resolves <paramref name="value"/>. On failure returns false with a reason that names the variable or file,
    /// never a secret.
    /// </summary>
    public static bool TryResolve(string? value, out string? resolved, out string? problem)
    {
        problem = null;
        resolved = value;
        if (!IsReference(value))
        {
            return true;
        }

        if (value!.StartsWith(EnvPrefix, StringComparison.Ordinal))
        {
            var name = value[EnvPrefix.Length..^1];
            resolved = name.Length == 0 ? null : Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(resolved))
            {
                problem = $"refers to environment variable '{name}', which is not set";
                return false;
            }

            return true;
        }

        var path = value[FilePrefix.Length..^1];
        try
        {
            resolved = File.ReadAllText(path).TrimEnd('\r', '\n');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            resolved = null;
            problem = $"refers to file '{path}', which cannot be read ({ex.GetType().Name})";
            return false;
        }

        if (resolved.Length == 0)
        {
            problem = $"refers to file '{path}', which is empty";
            return false;
        }

        return true;
    }
}
