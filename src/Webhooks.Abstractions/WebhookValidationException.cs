namespace Webhooks;

/// <summary>Thrown to a publisher whose event was refused because it is malformed. Nothing was accepted.</summary>
[GenerateSerializer, Alias("webhooks.WebhookValidationException")]
public sealed class WebhookValidationException : Exception
{
    public WebhookValidationException(IReadOnlyList<WebhookValidationError> errors)
        : base("Invalid webhook event: " + string.Join("; ", errors))
    {
        Errors = [.. errors];
    }

    /// <summary>Every problem found, each naming its field.</summary>
    [Id(0)]
    public WebhookValidationError[] Errors { get; private set; }
}
