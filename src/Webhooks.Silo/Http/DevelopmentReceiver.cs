using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Webhooks.Silo.Http;

/// <summary>
/// The PRD's "debug webhooks": an endpoint that a development tenant can deliver to. It logs each delivery and keeps
/// the latest ones for <c>GET /dev/receiver</c>. Enabled by <c>development.receiver</c> in <c>silo.yaml</c>.
/// </summary>
internal sealed partial class DevelopmentReceiver(TimeProvider timeProvider, ILogger<DevelopmentReceiver> logger)
{
    private const int Capacity = 100;
    private const int MaxBodyBytes = 1024 * 1024;
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();

    public IReadOnlyList<ReceivedDelivery> Latest => [.. _received.Reverse()];

    public async Task<IResult> ReceiveAsync(HttpRequest request, string? path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBodyBytes];
        var length = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        var text = new string(buffer, 0, length);
        JsonNode? body = null;
        try
        {
            body = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }

        var delivery = new ReceivedDelivery(
            timeProvider.GetUtcNow(),
            "/" + (path ?? ""),
            request.Headers.ToDictionary(h => h.Key, h => Shown(h.Key, h.Value.ToString()), StringComparer.OrdinalIgnoreCase),
            body ?? JsonValue.Create(text));
        _received.Enqueue(delivery);
        while (_received.Count > Capacity && _received.TryDequeue(out _))
        {
        }

        LogReceived(logger, delivery.Path, body?["event_name"]?.ToString(), body?["id"]?.ToString(), body?["tenant_id"]?.ToString(), text);
        return TypedResults.Ok();
    }

    // Tenant headers and signatures are secrets: the receiver shows that they arrived, not what they hold.
    private static readonly HashSet<string> ShownHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "User-Agent", "Content-Type", "Content-Length", "webhook-id", "webhook-timestamp", "traceparent", "tracestate",
    };

    private static string Shown(string name, string value) => ShownHeaders.Contains(name) ? value : "[redacted]";

    [LoggerMessage(Level = LogLevel.Information, Message = "Development receiver got {EventName} {EventId} for tenant {TenantId} at {Path}: {Body}")]
    private static partial void LogReceived(ILogger logger, string path, string? eventName, string? eventId, string? tenantId, string body);
}

/// <summary>One delivery recorded by the development receiver.</summary>
internal sealed record ReceivedDelivery(DateTimeOffset ReceivedAt, string Path, Dictionary<string, string> Headers, JsonNode Body);

internal static class DevelopmentReceiverEndpoints
{
    public static IEndpointRouteBuilder MapDevelopmentReceiver(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/dev/receiver/{**path}", (HttpRequest request, string? path, DevelopmentReceiver receiver, CancellationToken cancellationToken)
            => receiver.ReceiveAsync(request, path, cancellationToken));
        endpoints.MapGet("/dev/receiver", (DevelopmentReceiver receiver) => TypedResults.Ok(receiver.Latest));
        return endpoints;
    }
}
