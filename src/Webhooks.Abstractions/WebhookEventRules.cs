namespace Webhooks;

/// <summary>
/// The checks every published event passes before anything else looks at it, and the defaults it gets.
/// Payload checks belong to the event type's payload builder.
/// </summary>
public static class WebhookEventRules
{
    /// <summary>The longest tenant id or event id accepted.</summary>
    public const int MaxIdLength = 256;

    /// <summary>Assigns a UUID to an event without an id, and the current UTC time to one without a timestamp.</summary>
    public static WebhookEvent Normalize(WebhookEvent webhookEvent, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        var needsId = string.IsNullOrEmpty(webhookEvent.Id);
        var needsTimestamp = webhookEvent.Timestamp == default;
        var needsUtc = !needsTimestamp && webhookEvent.Timestamp.Offset != TimeSpan.Zero;
        if (!needsId && !needsTimestamp && !needsUtc)
        {
            return webhookEvent;
        }

        return webhookEvent with
        {
            Id = needsId ? Guid.NewGuid().ToString() : webhookEvent.Id,
            Timestamp = needsTimestamp ? timeProvider.GetUtcNow() : webhookEvent.Timestamp.ToUniversalTime(),
        };
    }

    /// <summary>Returns the problems with the event's id, tenant and name; empty when there are none.</summary>
    public static List<WebhookValidationError> Validate(WebhookEvent webhookEvent)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        var errors = new List<WebhookValidationError>();
        CheckIdentifier(errors, "tenant_id", webhookEvent.TenantId, required: true);
        CheckIdentifier(errors, "id", webhookEvent.Id, required: false);
        if (string.IsNullOrEmpty(webhookEvent.EventName))
        {
            errors.Add(new("event_name", "is required"));
        }
        else if (!WebhookEventNames.IsKnown(webhookEvent.EventName))
        {
            errors.Add(new("event_name", $"'{Printable(webhookEvent.EventName)}' is not a known event; expected one of {string.Join(", ", WebhookEventNames.All.Order(StringComparer.Ordinal))}"));
        }

        if (string.IsNullOrWhiteSpace(webhookEvent.Payload))
        {
            errors.Add(new("payload", "is required and must be a JSON object"));
        }

        return errors;
    }

    /// <summary>Throws <see cref="WebhookValidationException"/> when <see cref="Validate"/> finds a problem.</summary>
    public static void ThrowIfInvalid(WebhookEvent webhookEvent)
    {
        var errors = Validate(webhookEvent);
        if (errors.Count > 0)
        {
            throw new WebhookValidationException(errors);
        }
    }

    private static void CheckIdentifier(List<WebhookValidationError> errors, string field, string? value, bool required)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                errors.Add(new(field, "is required"));
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(new(field, "must not be blank"));
        }
        else if (value.Length > MaxIdLength)
        {
            errors.Add(new(field, $"is {value.Length} characters long; the limit is {MaxIdLength}"));
        }
        else if (value.Any(char.IsControl))
        {
            errors.Add(new(field, "must not contain control characters"));
        }
    }

    // Echoes a caller's value back in an error without letting it forge log lines or run on forever.
    private static string Printable(string value)
    {
        var shown = value.Length > 64 ? value[..64] + "…" : value;
        return string.Concat(shown.Select(c => char.IsControl(c) ? '?' : c));
    }
}
