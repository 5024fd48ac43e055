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
}
