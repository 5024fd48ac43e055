namespace Webhooks;

/// <summary>One problem with a published event: the field at fault (for example <c>payload.price_id</c>) and what is wrong.</summary>
[GenerateSerializer, Immutable, Alias("webhooks.WebhookValidationError")]
public sealed record WebhookValidationError([property: Id(0)] string Field, [property: Id(1)] string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
