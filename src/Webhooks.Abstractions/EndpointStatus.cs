namespace Webhooks;

/// <summary>Whether a tenant's endpoint is receiving deliveries, and how it has been doing.</summary>
/// <param name="TenantId">The tenant.</param>
/// <param name="Enabled">False once the endpoint was disabled; events are then kept as failed until it is enabled again.</param>
/// <param name="DisabledReason">Why it was disabled.</param>
/// <param name="DisabledAt">When it was disabled.</param>
/// <param name="FailingSince">When the current run of failed attempts began; null after a success.</param>
/// <param name="ConsecutiveFailures">Failed attempts since the last success.</param>
[GenerateSerializer, Immutable, Alias("webhooks.EndpointStatus")]
public sealed record EndpointStatus(
    [property: Id(0)] string TenantId,
    [property: Id(1)] bool Enabled,
    [property: Id(2)] string? DisabledReason,
    [property: Id(3)] DateTimeOffset? DisabledAt,
    [property: Id(4)] DateTimeOffset? FailingSince,
    [property: Id(5)] int ConsecutiveFailures);
