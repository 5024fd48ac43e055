using System.Text.Json;

namespace Webhooks.Tests.Infrastructure;

/// <summary>One request as the receiver saw it.</summary>
public sealed record ReceivedRequest(string Tenant, string Method, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset ReceivedAt)
{
    /// <summary>The status the receiver answered with; null for a request left hanging.</summary>
    public int? AnsweredWith { get; init; }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string EventId => Json.GetProperty("id").GetString()!;
}
