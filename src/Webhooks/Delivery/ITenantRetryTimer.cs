using Orleans.Concurrency;

namespace Webhooks.Delivery;

/// <summary>How a tenant grain's timer, which fires outside the grain, hands the work back to it.</summary>
internal interface ITenantRetryTimer : IGrainWithStringKey
{
    /// <summary>Moves the retries that are due to delivery, and lets lapsed grants go from the silo's backlog.</summary>
    [OneWay]
    Task RetryDue();
}
