using System.Text.Json;

namespace Webhooks.Payloads;

/// <summary>
/// A builder that requires some string fields, then passes the payload through unchanged. The default builders are
/// of this kind; derive from it to add checks or enrich the payload.
/// </summary>
public class RequiredFieldsPayloadBuilder(string eventName, params string[] requiredStringFields) : IWebhookPayloadBuilder
{
    public string EventName { get; } = eventName;

    /// <summary>The fields that must be present as JSON strings.</summary>
    public IReadOnlyList<string> RequiredStringFields { get; } = requiredStringFields;

    public virtual IEnumerable<WebhookValidationError> Validate(JsonElement payload)
    {
        foreach (var field in RequiredStringFields)
        {
            if (!payload.TryGetProperty(field, out var value))
            {
                yield return new($"payload.{field}", "is required");
            }
            else if (value.ValueKind != JsonValueKind.String)
            {
                yield return new($"payload.{field}", $"must be a string, not {Describe(value.ValueKind)}");
            }
            else if (!JsonText.TryRead(value, out var text))
            {
                yield return new($"payload.{field}", JsonText.NotUnicode);
            }
            else if (string.IsNullOrWhiteSpace(text))
            {
                yield return new($"payload.{field}", "must not be empty");
            }
        }
    }

    public virtual ValueTask<string> BuildAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken) =>
        ValueTask.FromResult(webhookEvent.Payload);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
