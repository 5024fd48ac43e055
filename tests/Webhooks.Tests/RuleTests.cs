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
