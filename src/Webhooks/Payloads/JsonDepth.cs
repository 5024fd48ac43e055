using System.Text.Json;

namespace Webhooks.Payloads;

/// <summary>How deeply JSON nests, for the <c>ingest.max_json_depth</c> limit.</summary>
public static class JsonDepth
{
    /// <summary>The nesting depth of <paramref name="element"/>: 0 for a scalar, 1 for a flat object or array.</summary>
    public static int Of(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => 1 + element.EnumerateObject().Select(property => Of(property.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + element.EnumerateArray().Select(Of).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    /// <summary>Whether a parse failed because the document nests deeper than the reader allowed.</summary>
    public static bool Exceeded(JsonException exception) =>
        exception.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase);
}
