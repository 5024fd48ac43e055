namespace Webhooks;

/// <summary>
/// Room reserved in a tenant's buffer for events that a gateway publishes through the stream.
/// </summary>
/// <param name="Credits">How many events may be published; zero when the buffer is full.</param>
/// <param name="Lease">How long, from the request, the credits stay valid. Unused credits lapse after it.</param>
/// <param name="RetryAfter">When <paramref name="Credits"/> is zero, how long to wait before asking again.</param>
/// <param name="Topic">The stream namespace that tenant grains listen on.</param>
/// <param name="Refusal">When <paramref name="Credits"/> is zero, which bound is full.</param>
/// <param name="Durable">
/// True when the silo keeps events in durable storage: the gateway then publishes straight to the tenant's grain, which
/// acknowledges only once the event is stored, instead of through the in-memory stream. No credits are granted.
/// </param>
[GenerateSerializer, Immutable, Alias("webhooks.AdmissionGrant")]
public sealed record AdmissionGrant(
    [property: Id(0)] int Credits,
    [property: Id(1)] TimeSpan Lease,
    [property: Id(2)] TimeSpan RetryAfter,
    [property: Id(3)] string Topic,
    [property: Id(4)] bool Durable = false,
    [property: Id(5)] OverflowReason Refusal = OverflowReason.TenantBufferFull);
