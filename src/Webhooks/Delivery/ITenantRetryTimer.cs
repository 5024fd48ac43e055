using Orleans.Concurrency;

namespace Webhooks.Delivery;

/// <summary>How a tenant grain's timer, which fires outside the grain, hands the work back to it.</summary>
internal interface ITenantRetryTimer : IGrainWithStringKey
{
    /// <summary>
    /// Sees to what is due: moves due retries to delivery, lets lapsed grants go from the silo's backlog, expires failed
    /// events past their retention and, with durable storage, writes changes not yet written.
    /// </summary>
    [OneWay]
    Task RetryDue();
}
