namespace Webhooks;

/// <summary>An accepted event that could not be delivered, kept so that an operator can replay it.</summary>
/// <param name="Event">The event, as published.</param>
/// <param name="Attempts">How many delivery attempts were made.</param>
/// <param name="FailedAt">When it was given up on.</param>
/// <param name="Reason">Why: <c>retries_exhausted</c>, <c>endpoint_gone</c>, <c>endpoint_disabled</c>.</param>
/// <param name="LastStatusCode">The HTTP status of the last attempt, if a response arrived.</param>
/// <param name="LastError">What went wrong on the last attempt.</param>
[GenerateSerializer, Immutable, Alias("webhooks.FailedDelivery")]
public sealed record FailedDelivery(
    [property: Id(0)] WebhookEvent Event,
    [property: Id(1)] int Attempts,
    [property: Id(2)] DateTimeOffset FailedAt,
    [property: Id(3)] string Reason,
    [property: Id(4)] int? LastStatusCode,
    [property: Id(5)] string? LastError);

/// <summary>Why an event was moved to the failed events.</summary>
public static class FailureReasons
{
    /// <summary>Every attempt of the retry schedule failed.</summary>
    public const string RetriesExhausted = "retries_exhausted";

    /// <summary>The endpoint answered 410 Gone, which disables it.</summary>
    public const string EndpointGone = "endpoint_gone";

    /// <summary>The endpoint was disabled, by a 410, by failing for too long, or by an operator.</summary>
    public const string EndpointDisabled = "endpoint_disabled";
}
