using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Payloads;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Webhooks.Silo.Http;

/// <summary><c>POST /v1/events</c>: publish an event over HTTP.</summary>
internal static class EventIngestEndpoints
{
    public static RouteHandlerBuilder MapEventIngest(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/events", PublishAsync)
            .WithName("PublishEvent")
            .WithSummary("Publishes an event to its tenant's webhook endpoint.");

    private static async Task<IResult> PublishAsync(HttpRequest request, IWebhookPublisher publisher, IOptions<IngestLimitsOptions> limits, CancellationToken cancellationToken)
    {
        var limit = limits.Value;
        JsonDocument document;
        try
        {
            // One level for the envelope around the payload.
            document = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = limit.MaxJsonDepth + 1 }, cancellationToken);
        }
        catch (JsonException ex) when (JsonDepth.Exceeded(ex))
        {
            return Invalid(new Dictionary<string, string[]> { ["payload"] = [$"nests deeper than {limit.MaxJsonDepth} levels"] });
        }
        catch (JsonException ex)
        {
            return Invalid(new Dictionary<string, string[]> { ["body"] = [$"is not valid JSON: {ex.Message}"] });
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }

        using (document)
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var webhookEvent = Read(document.RootElement, errors);
            if (webhookEvent is null)
            {
                return Invalid(errors);
            }

            if (Encoding.UTF8.GetByteCount(webhookEvent.Payload) > limit.MaxPayloadBytes)
            {
                return TooLarge(limit);
            }

            try
            {
                var id = await publisher.PublishAsync(webhookEvent, cancellationToken);
                return TypedResults.Accepted((string?)null, new PublishedEvent(id));
            }
            catch (WebhookValidationException ex)
            {
                return Invalid(ex.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()));
            }
            catch (WebhookOverflowException ex)
            {
                var seconds = (int)Math.Ceiling(Math.Max(ex.RetryAfter.TotalSeconds, 1));
                request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(
                    statusCode: ex.Reason == OverflowReason.TenantBufferFull ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable,
                    title: "Event not accepted: try again later",
                    detail: ex.Message);
            }
        }
    }

    // Reads the request's fields, recording each problem under its field name. Returns null when there is any.
    private static WebhookEvent? Read(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = ["must be a JSON object"];
            return null;
        }

        var tenantId = ReadString(root, "tenant_id", required: true, errors);
        var eventName = ReadString(root, "event_name", required: true, errors);
        var id = ReadString(root, "id", required: false, errors);
        var timestamp = ReadTimestamp(root, errors);
        string? payload = null;
        if (!root.TryGetProperty("payload", out var payloadElement) || payloadElement.ValueKind == JsonValueKind.Null)
        {
            errors["payload"] = ["is required"];
        }
        else if (payloadElement.ValueKind != JsonValueKind.Object)
        {
            errors["payload"] = ["must be a JSON object"];
        }
        else
        {
            payload = payloadElement.GetRawText();
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new WebhookEvent
        {
            TenantId = tenantId!,
            EventName = eventName!,
            Id = id ?? "",
            Timestamp = timestamp ?? default,
            Payload = payload!,
        };
    }

    private static string? ReadString(JsonElement root, string field, bool required, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors[field] = ["is required"];
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors[field] = ["must be a string"];
            return null;
        }

        if (!JsonText.TryRead(value, out var text))
        {
            errors[field] = [JsonText.NotUnicode];
        }

        return text;
    }

    private static DateTimeOffset? ReadTimestamp(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (ReadString(root, "timestamp", required: false, errors) is not { } text)
        {
            return null;
        }

        // RFC 3339 requires an explicit offset; a time without one would be read in the silo's local zone.
        if (HasOffset(text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) && text.Contains('T', StringComparison.OrdinalIgnoreCase))
        {
            return parsed.ToUniversalTime();
        }

        errors["timestamp"] = ["must be an RFC 3339 date-time with an offset, such as 2024-01-21T15:30:00Z"];
        return null;
    }

    private static bool HasOffset(string text) =>
        text.EndsWith('Z') || text.EndsWith('z')
        || (text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':');

    private static IResult TooLarge(IngestLimitsOptions limit) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Payload too large",
        detail: $"The payload is larger than ingest.max_payload_bytes ({limit.MaxPayloadBytes} bytes).",
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["payload"] = [$"is larger than {limit.MaxPayloadBytes} bytes"] } });

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "Invalid webhook event");

    /// <summary>The body of a 202: the accepted event's id.</summary>
    private sealed record PublishedEvent(string Id);
}
