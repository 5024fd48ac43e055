namespace Webhooks;

/// <summary>
/// The checks every published event passes before anything else looks at it, and the defaults it gets.
/// Payload checks belong to the event type's payload builder.
/// </summary>
public static class WebhookEventRules
{
    /// <summary>The longest tenant id or event id accepted.</summary>
    public const int MaxIdLength = 128;

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
        if (string.IsNullOrEmpty(webhookEvent.TenantId))
        {
            errors.Add(new("tenant_id", "is required"));
        }
        else if (TenantIdProblem(webhookEvent.TenantId) is { } tenantProblem)
        {
            errors.Add(new("tenant_id", tenantProblem));
        }

        if (!string.IsNullOrEmpty(webhookEvent.Id) && EventIdProblem(webhookEvent.Id) is { } idProblem)
        {
            errors.Add(new("id", idProblem));
        }

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

    /// <summary>
    /// What is wrong with a tenant id, or null: it has 1 to 128 characters, each a letter, a digit, or one of
    /// <c>- _ . :</c>, so that it is safe in URLs, logs, stream keys and storage keys.
    /// </summary>
    public static string? TenantIdProblem(string tenantId)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        if (tenantId.Length is 0 or > MaxIdLength)
        {
            return $"must have 1 to {MaxIdLength} characters";
        }

        return tenantId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')
            ? null
            : "may hold only letters, digits, '-', '_', '.' and ':'";
    }

    /// <summary>
    /// What is wrong with an event id, or null: it has 1 to 128 visible ASCII characters, since it is sent as the
    /// <c>webhook-id</c> header and signed.
    /// </summary>
    public static string? EventIdProblem(string eventId)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        if (eventId.Length is 0 or > MaxIdLength)
        {
            return $"must have 1 to {MaxIdLength} characters";
        }

        return eventId.All(c => c is > ' ' and <= '~') ? null : "may hold only visible ASCII characters, without spaces";
    }

    // Echoes a caller's value back in an error without letting it forge log lines or run on forever.
    private static string Printable(string value)
    {
        var shown = value.Length > 64 ? value[..64] + "…" : value;
        return string.Concat(shown.Select(c => char.IsControl(c) ? '?' : c));
    }
}
