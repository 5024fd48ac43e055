namespace Webhooks;

/// <summary>Thrown to a publisher when a bound was hit and the event was not accepted. Publish it again after <see cref="RetryAfter"/>.</summary>
[GenerateSerializer, Alias("webhooks.WebhookOverflowException")]
public sealed class WebhookOverflowException : Exception
{
    public WebhookOverflowException(string tenantId, OverflowReason reason, TimeSpan retryAfter, Exception? innerException = null)
        : base($"Event for tenant '{tenantId}' not accepted: {Describe(reason)}. Retry after {retryAfter.TotalSeconds:0.###} s.", innerException)
    {
        TenantId = tenantId;
        Reason = reason;
        RetryAfter = retryAfter;
    }

    [Id(0)]
    public string TenantId { get; private set; }

    [Id(1)]
    public OverflowReason Reason { get; private set; }

    /// <summary>How long the publisher should wait before trying again.</summary>
    [Id(2)]
    public TimeSpan RetryAfter { get; private set; }

    private static string Describe(OverflowReason reason) => reason switch
    {
        OverflowReason.TenantBufferFull => "the tenant's delivery buffer is full",
        OverflowReason.StreamQueueFull => "the event stream's queue is full",
        OverflowReason.SiloBacklogFull => "the silo holds as many undelivered events as it may, or this tenant its share of them",
        _ => reason.ToString(),
    };
}

/// <summary>Which bound refused an event.</summary>
[GenerateSerializer]
public enum OverflowReason
{
    /// <summary>The tenant has as many events waiting as <c>delivery.buffer_size</c> allows.</summary>
    TenantBufferFull,

    /// <summary>The in-memory stream queue holds its maximum of 16384 events.</summary>
    StreamQueueFull,

    /// <summary>
    /// The silo holds as many undelivered events as <c>delivery.max_pending</c> allows, or this tenant holds as many as
    /// the silo has free: no tenant may hold more, so that a few stuck endpoints cannot take the room of the rest.
    /// </summary>
    SiloBacklogFull,
}
