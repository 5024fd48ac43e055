using System.Text.Json;

namespace Webhooks.Payloads;

/// <summary>Reads a JSON string that may not be valid Unicode text, such as one with an unpaired surrogate escape.</summary>
internal static class JsonText
{
    public const string NotUnicode = "is not valid Unicode text";

    /// <summary>The string's text; false, with no text, when it holds an unpaired surrogate.</summary>
    public static bool TryRead(JsonElement value, out string? text)
    {
        try
        {
            text = value.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            text = null;
            return false;
        }
    }
}
