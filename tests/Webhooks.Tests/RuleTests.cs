namespace Webhooks.Tests;

/// <summary>Events that a tenant rule keeps from delivery: counted and logged with their reason, never failed to the publisher.</summary>
[Collection(EngineCollection.Name)]
public sealed class RuleTests(EngineFixture fixture)
{
    private WebhookCluster Cluster => fixture.Cluster;

    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task Excluded_events_are_counted_and_not_delivered()
    {
        var excluded = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("excluder", WebhookEventNames.UsageRecorded, new { customer_id = "c" }));
        var alsoExcluded = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("excluder", WebhookEventNames.PriceDeleted, new { price_id = "p" }));
        var delivered = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("excluder", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        var stats = await Eventually.Until(
            () => Cluster.Tenant("excluder").GetStats(),
            s => s.Delivered == 1 && s.Filtered.GetValueOrDefault(FilterReasons.EventExcluded) == 2,
            "one delivery and two exclusions");

        Assert.Equal(3, stats.Received);
        Assert.Equal(delivered, Assert.Single(Receiver.RequestsFor("excluder")).EventId);
        Assert.Contains(Cluster.SiloLogs, log => log.Message.Contains(excluded, StringComparison.Ordinal) && log.Message.Contains(FilterReasons.EventExcluded, StringComparison.Ordinal));
        Assert.Contains(Cluster.SiloLogs, log => log.Message.Contains(alsoExcluded, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_disabled_tenant_gets_nothing_and_the_publisher_is_not_failed()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("disabled", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        var stats = await Eventually.Until(
            () => Cluster.Tenant("disabled").GetStats(),
            s => s.Filtered.GetValueOrDefault(FilterReasons.TenantDisabled) == 1,
            "the event to be filtered");

        Assert.Equal(0, stats.Delivered + stats.Failed + stats.Buffered + stats.InFlight);
        Assert.Empty(Receiver.RequestsFor("disabled"));
        Assert.Contains(Cluster.SiloLogs, log => log.Level == LogLevel.Information && log.Message.Contains(id, StringComparison.Ordinal) && log.Message.Contains(FilterReasons.TenantDisabled, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_tenant_is_counted_and_the_publisher_is_not_failed()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("nobody-configured-this", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        var stats = await Eventually.Until(
            () => Cluster.Tenant("nobody-configured-this").GetStats(),
            s => s.Filtered.GetValueOrDefault(FilterReasons.UnknownTenant) == 1,
            "the event to be filtered");

        Assert.Equal(1, stats.Received);
        Assert.DoesNotContain(Receiver.All, r => r.Body.Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_tenant_is_logged_with_its_reason_at_information_first_then_at_debug()
    {
        const string tenant = "unknown-and-logged";
        var first = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create(tenant, WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        var second = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create(tenant, WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "c" }));

        await Eventually.Until(
            () => Cluster.Tenant(tenant).GetStats(),
            s => s.Filtered.GetValueOrDefault(FilterReasons.UnknownTenant) == 2,
            "both events to be filtered");

        var lines = Cluster.SiloLogs.Where(log => Equals(log.GetStructuredStateValue("TenantId"), tenant)).ToList();
        Assert.Equal(2, lines.Count);
        FilterLog.AssertLine(lines[0], LogLevel.Information, tenant, first, WebhookEventNames.PriceUpdated, FilterReasons.UnknownTenant, firstOfItsReason: true);
        FilterLog.AssertLine(lines[1], LogLevel.Debug, tenant, second, WebhookEventNames.BillingGenerated, FilterReasons.UnknownTenant, firstOfItsReason: false);
        Assert.DoesNotContain(Receiver.All, r => r.Body.Contains(first, StringComparison.Ordinal) || r.Body.Contains(second, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rules_are_counted_on_the_engine_meter()
    {
        using var filtered = Cluster.CollectCounter("webhooks.events.filtered", silo: 0);
        using var filteredOnSecond = Cluster.CollectCounter("webhooks.events.filtered", silo: 1);

        await Cluster.Tenant("disabled").Publish(new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = """{"price_id":"p"}""" });

        await Eventually.Until(
            () => Task.FromResult(filtered.GetMeasurementSnapshot().Concat(filteredOnSecond.GetMeasurementSnapshot())
                .Any(m => Equals(m.Tags["reason"], FilterReasons.TenantDisabled))),
            "a filtered measurement tagged tenant_disabled");
    }
}

/// <summary>The log line a tenant rule writes for an event it keeps from delivery.</summary>
internal static class FilterLog
{
    public const string Category = "Webhooks.Delivery.TenantWebhookGrain";

    public static void AssertLine(Microsoft.Extensions.Logging.Testing.FakeLogRecord record, LogLevel level, string tenant, string eventId, string eventName, string reason, bool firstOfItsReason)
    {
        Assert.Equal(level, record.Level);
        Assert.Equal(Category, record.Category);
        var message = $"Event {eventId} ({eventName}) for tenant {tenant} not delivered: {reason}";
        Assert.Equal(firstOfItsReason ? message + "; further events kept back for this reason are logged at Debug" : message, record.Message);
        Assert.Equal(tenant, record.GetStructuredStateValue("TenantId"));
        Assert.Equal(eventId, record.GetStructuredStateValue("EventId"));
        Assert.Equal(eventName, record.GetStructuredStateValue("EventName"));
        Assert.Equal(reason, record.GetStructuredStateValue("Reason"));

        // The tenant and the event are in the log scope too, for sinks that index scopes rather than messages.
        Assert.Contains(record.Scopes, scope => scope is IEnumerable<KeyValuePair<string, object?>> values
            && values.Contains(new KeyValuePair<string, object?>("TenantId", tenant))
            && values.Contains(new KeyValuePair<string, object?>("EventId", eventId)));
    }
}
