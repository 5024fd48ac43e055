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
}
