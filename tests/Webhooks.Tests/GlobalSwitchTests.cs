namespace Webhooks.Tests;

/// <summary><c>webhook.enabled: false</c> keeps every event from delivery without failing publishers.</summary>
public sealed class GlobalSwitchTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _cluster = await WebhookCluster.StartAsync(new TenantsYaml { Enabled = false }.Tenant("acme", _receiver.EndpointFor("acme")));
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Nothing_is_delivered_and_every_event_is_counted_with_its_reason()
    {
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await _cluster.Tenant("acme").Publish(WebhookEvent.Create("acme", WebhookEventNames.PriceDeleted, new { price_id = "p" }));

        var stats = await Eventually.Until(
            () => _cluster.Tenant("acme").GetStats(),
            s => s.Filtered.GetValueOrDefault(FilterReasons.WebhooksDisabled) == 2,
            "both events to be filtered");

        Assert.Equal(0, stats.Delivered + stats.Failed);
        Assert.Empty(_receiver.All);
    }

    [Fact]
    public async Task Each_kept_back_event_is_logged_with_tenant_event_id_and_reason()
    {
        var first = await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.UsageRecorded, new { customer_id = "c" }));
        var second = await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        var otherTenant = await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("not-configured", WebhookEventNames.PriceDeleted, new { price_id = "p" }));

        await Eventually.Until(
            async () => (await _cluster.Tenant("acme").GetStats()).Filtered.GetValueOrDefault(FilterReasons.WebhooksDisabled) == 2
                && (await _cluster.Tenant("not-configured").GetStats()).Filtered.GetValueOrDefault(FilterReasons.WebhooksDisabled) == 1,
            "all three events to be filtered");

        // The global switch is judged first: a tenant that is not configured is reported as webhooks_disabled too.
        var acme = _cluster.SiloLogs.Where(log => Equals(log.GetStructuredStateValue("TenantId"), "acme")).ToList();
        Assert.Equal(2, acme.Count);
        FilterLog.AssertLine(acme[0], LogLevel.Information, "acme", first, WebhookEventNames.UsageRecorded, FilterReasons.WebhooksDisabled, firstOfItsReason: true);
        FilterLog.AssertLine(acme[1], LogLevel.Debug, "acme", second, WebhookEventNames.PriceUpdated, FilterReasons.WebhooksDisabled, firstOfItsReason: false);
        var other = Assert.Single(_cluster.SiloLogs, log => Equals(log.GetStructuredStateValue("TenantId"), "not-configured"));
        FilterLog.AssertLine(other, LogLevel.Information, "not-configured", otherTenant, WebhookEventNames.PriceDeleted, FilterReasons.WebhooksDisabled, firstOfItsReason: true);
        Assert.Empty(_receiver.All);
    }
}
