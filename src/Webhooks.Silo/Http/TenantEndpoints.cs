using System.Globalization;
using System.Text.Json;
using Webhooks.Payloads;

namespace Webhooks.Silo.Http;

/// <summary>Operator routes for one tenant: failed events and their replay, attempt history, endpoint status.</summary>
internal static class TenantEndpoints
{
    private const int DefaultAttemptLimit = 100;

    public static RouteGroupBuilder MapTenantOperations(this IEndpointRouteBuilder endpoints)
    {
        var tenant = endpoints.MapGroup("/v1/tenants/{tenant}");

        // A tenant id that no tenant can have is refused before it activates a grain.
        tenant.AddEndpointFilter((context, next) =>
            context.HttpContext.GetRouteValue("tenant") is string id && WebhookEventRules.TenantIdProblem(id) is { } problem
                ? ValueTask.FromResult<object?>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["tenant"] = [$"the tenant id {problem}"] }, title: "Invalid tenant id"))
                : next(context));
        tenant.MapGet("/failed", (string tenant, IGrainFactory grains) => Grain(grains, tenant).GetFailed())
            .WithSummary("Lists the tenant's failed events, oldest first.");
        tenant.MapPost("/failed/replay", ReplayAsync)
            .WithSummary("Replays one failed event ({\"event_id\"}) or every one since a time ({\"since\"}).");
        tenant.MapGet("/attempts", (string tenant, int? limit, IGrainFactory grains) => Grain(grains, tenant).GetAttempts(limit ?? DefaultAttemptLimit))
            .WithSummary("Lists the tenant's latest delivery attempts, newest first.");
        tenant.MapGet("/status", (string tenant, IGrainFactory grains) => Grain(grains, tenant).GetEndpointStatus())
            .WithSummary("Whether the tenant's endpoint receives deliveries, and its run of failures.");
        tenant.MapPost("/enable", (string tenant, IGrainFactory grains) => Grain(grains, tenant).Enable())
            .WithSummary("Enables a disabled endpoint; failed events stay failed until replayed.");
        return tenant;
    }

    private static async Task<IResult> ReplayAsync(string tenant, HttpRequest request, IGrainFactory grains, CancellationToken cancellationToken)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            body = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            return Invalid("body", $"is not valid JSON: {ex.Message}");
        }

        var eventId = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("event_id", out var id) ? id : default;
        var since = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("since", out var time) ? time : default;
        if ((eventId.ValueKind == JsonValueKind.Undefined) == (since.ValueKind == JsonValueKind.Undefined))
        {
            return Invalid("body", "must hold exactly one of event_id and since");
        }

        try
        {
            if (eventId.ValueKind != JsonValueKind.Undefined)
            {
                if (eventId.ValueKind != JsonValueKind.String || !JsonText.TryRead(eventId, out var failedId) || string.IsNullOrEmpty(failedId))
                {
                    return Invalid("event_id", "must be a non-empty string of valid Unicode text");
                }

                var result = await Grain(grains, tenant).Replay(failedId);
                return result is { Replayed: 0, Remaining: 0 }
                    ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such failed event", detail: $"Tenant '{tenant}' keeps no failed event '{failedId}'.")
                    : TypedResults.Ok(result);
            }

            if (since.ValueKind != JsonValueKind.String
                || !JsonText.TryRead(since, out var sinceText)
                || !DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var from))
            {
                return Invalid("since", "must be an RFC 3339 date-time, such as 2024-01-21T15:30:00Z");
            }

            return TypedResults.Ok(await Grain(grains, tenant).ReplaySince(from));
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The endpoint is disabled", detail: ex.Message);
        }
    }

    private static ITenantWebhookGrain Grain(IGrainFactory grains, string tenant) => grains.GetGrain<ITenantWebhookGrain>(tenant);

    private static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid replay request");
}
