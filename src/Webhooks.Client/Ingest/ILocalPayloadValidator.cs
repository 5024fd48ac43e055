namespace Webhooks.Ingest;

/// <summary>
/// Payload validation that runs in this process. Inside a silo the gateway validates through it, without a grain call;
/// an external client has none and asks the payload builder grain.
/// </summary>
internal interface ILocalPayloadValidator
{
    WebhookValidationError[] Validate(WebhookEvent webhookEvent);
}
