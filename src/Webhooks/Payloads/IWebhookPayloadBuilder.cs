using System.Text.Json;

namespace Webhooks.Payloads;

/// <summary>
/// Validates and builds the payload of one event type. Register your own with
/// <see cref="PayloadServiceCollectionExtensions.AddWebhookPayloadBuilder{TBuilder}"/> to replace a default builder.
/// </summary>
public interface IWebhookPayloadBuilder
{
    /// <summary>The event type this builder serves, one of <see cref="WebhookEventNames"/>.</summary>
    string EventName { get; }

    /// <summary>
    /// Returns the problems with a published payload, each naming its field (for example <c>payload.price_id</c>); none
    /// when it is valid. Runs before the event is accepted. <paramref name="payload"/> is always a JSON object.
    /// </summary>
    IEnumerable<WebhookValidationError> Validate(JsonElement payload);

    /// <summary>Builds the JSON payload delivered for an accepted event; runs just before delivery.</summary>
    ValueTask<string> BuildAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken);
}
