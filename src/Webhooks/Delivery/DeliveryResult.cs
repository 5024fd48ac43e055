namespace Webhooks.Delivery;

/// <summary>How one delivery attempt ended.</summary>
/// <param name="Outcome">One of <see cref="DeliveryOutcomes"/>.</param>
/// <param name="StatusCode">The HTTP status, when a response arrived.</param>
/// <param name="Error">Why it failed, in words; null on success.</param>
/// <param name="Duration">From sending the request to reading the response headers.</param>
/// <param name="ResponseExcerpt">The start of a failed response's body, capped in size.</param>
/// <param name="RetryAfter">The wait a 429 or 503 asked for in its <c>Retry-After</c> header.</param>
internal sealed record DeliveryResult(string Outcome, int? StatusCode, string? Error, TimeSpan Duration, string? ResponseExcerpt, TimeSpan? RetryAfter = null)
{
    public bool Succeeded => Outcome == DeliveryOutcomes.Delivered;
}

/// <summary>The values of the <c>outcome</c> tag on delivery metrics.</summary>
internal static class DeliveryOutcomes
{
    public const string Delivered = "delivered";
    public const string HttpError = "http_error";
    public const string Timeout = "timeout";
    public const string ConnectionError = "connection_error";

    /// <summary>The engine would not connect: the SSRF guard blocked the endpoint's address.</summary>
    public const string Refused = "refused";
    public const string Error = "error";
}
