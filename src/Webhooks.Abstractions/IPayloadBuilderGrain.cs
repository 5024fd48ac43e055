namespace Webhooks;

/// <summary>
/// Validates events and builds the payload that is delivered for them, using the payload builder registered for each
/// event type. A stateless worker: every silo runs as many as it needs, and calls to it stay local.
/// </summary>
public interface IPayloadBuilderGrain : IGrainWithIntegerKey
{
    /// <summary>Returns the problems with the event's payload; empty when it is valid.</summary>
    Task<WebhookValidationError[]> Validate(WebhookEvent webhookEvent);

    /// <summary>Builds the JSON payload that is delivered for a valid event.</summary>
    Task<string> Build(WebhookEvent webhookEvent);

    /// <summary>Builds the payloads of several events in one call, in order; a tenant with a backlog builds in batches.</summary>
    Task<string[]> BuildAll(WebhookEvent[] webhookEvents);
}
