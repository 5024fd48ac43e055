using System.Collections.Frozen;

namespace Webhooks;

/// <summary>The event types the engine delivers. Publishing any other name is an error.</summary>
public static class WebhookEventNames
{
    public const string PriceUpdated = "price.updated";
    public const string PriceDeleted = "price.deleted";
    public const string UsageRecorded = "usage.recorded";
    public const string BillingGenerated = "billing.generated";

    /// <summary>Every known event name.</summary>
    public static FrozenSet<string> All { get; } = FrozenSet.Create(StringComparer.Ordinal, PriceUpdated, PriceDeleted, UsageRecorded, BillingGenerated);

    /// <summary>Whether <paramref name="eventName"/> is a known event type (exact, case-sensitive).</summary>
    public static bool IsKnown(string? eventName) => eventName is not null && All.Contains(eventName);
}
