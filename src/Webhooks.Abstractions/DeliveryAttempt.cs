namespace Webhooks;

/// <summary>One attempt to deliver an event, as kept in the tenant's attempt history.</summary>
/// <param name="EventId">The event attempted.</param>
/// <param name="EventName">Its type.</param>
/// <param name="Attempt">1 for the first attempt, 2 for the first retry, and so on.</param>
/// <param name="At">When the attempt started.</param>
/// <param name="StatusCode">The HTTP status, when a response arrived.</param>
/// <param name="Duration">How long the attempt took.</param>
/// <param name="Outcome">delivered, http_error, timeout, connection_error or error.</param>
/// <param name="Error">Why it failed, in words; null on success.</param>
/// <param name="ResponseExcerpt">The start of the response body of a failed attempt, capped in size.</param>
[GenerateSerializer, Immutable, Alias("webhooks.DeliveryAttempt")]
public sealed record DeliveryAttempt(
    [property: Id(0)] string EventId,
    [property: Id(1)] string EventName,
    [property: Id(2)] int Attempt,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] int? StatusCode,
    [property: Id(5)] TimeSpan Duration,
    [property: Id(6)] string Outcome,
    [property: Id(7)] string? Error,
    [property: Id(8)] string? ResponseExcerpt);
