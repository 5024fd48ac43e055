namespace Webhooks.Payloads;

/// <summary>The builders used for an event type when the host registers none of its own.</summary>
internal static class DefaultPayloadBuilders
{
    public static IReadOnlyList<IWebhookPayloadBuilder> All { get; } =
    [
        new RequiredFieldsPayloadBuilder(WebhookEventNames.PriceUpdated, "price_id"),
        new RequiredFieldsPayloadBuilder(WebhookEventNames.PriceDeleted, "price_id"),
        new RequiredFieldsPayloadBuilder(WebhookEventNames.UsageRecorded, "customer_id"),
        new RequiredFieldsPayloadBuilder(WebhookEventNames.BillingGenerated, "invoice_id", "customer_id"),
    ];
}
