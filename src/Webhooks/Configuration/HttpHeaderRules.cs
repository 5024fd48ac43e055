namespace Webhooks.Configuration;

/// <summary>What a tenant may put in its <c>headers</c>.</summary>
internal static class HttpHeaderRules
{
    // Set by the engine itself; a tenant that set them would corrupt or forge the request.
    private static readonly string[] Reserved = ["Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection"];
    private const string ReservedPrefix = "webhook-";

    /// <summary>Returns what is wrong with a header name, or null.</summary>
    public static string? CheckName(string name)
    {
        if (name.Length == 0)
        {
            return "header name is empty";
        }

        if (!name.All(IsTokenChar))
        {
            return "header name contains control characters, spaces or separators";
        }

        if (Reserved.Contains(name, StringComparer.OrdinalIgnoreCase) || name.StartsWith(ReservedPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return $"header '{name}' is set by the engine and cannot be configured";
        }

        return null;
    }

    /// <summary>Returns what is wrong with a header value, or null. The message never repeats the value.</summary>
    public static string? CheckValue(string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Any(c => c != '\t' && (char.IsControl(c))))
        {
            return "header value contains control characters";
        }

        return value.Any(c => c > '\u007e') ? "header value contains non-ASCII characters" : null;
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
}
