namespace Webhooks.Tests;

/// <summary>A cluster whose <c>webhook.topic</c> is not the default.</summary>
public sealed class TopicTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        var tenants = new TenantsYaml { Topic = "billing-events" }.Tenant("acme", _receiver.EndpointFor("acme"));
        _cluster = await WebhookCluster.StartAsync(tenants, silos: 2);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Events_flow_on_a_non_default_topic_from_every_publisher()
    {
        var external = await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));
        var cohosted = await _cluster.SiloPublisher(1).PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p2" }));

        var requests = await _receiver.WaitForAsync("acme", 2);

        Assert.Equal(new[] { external, cohosted }.Order(StringComparer.Ordinal), requests.Select(r => r.EventId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_tenant_grain_listens_on_the_configured_topic_only()
    {
        var streams = _cluster.Client.GetStreamProvider(WebhookStreams.ProviderName);
        await streams.GetStream<WebhookEvent>(StreamId.Create(WebhookStreams.DefaultTopic, "acme"))
            .OnNextAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "wrong-topic" }) with { Id = "wrong-topic" });
        await streams.GetStream<WebhookEvent>(StreamId.Create("billing-events", "acme"))
            .OnNextAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "right-topic" }) with { Id = "right-topic", Timestamp = DateTimeOffset.UtcNow });

        await _receiver.WaitUntilAsync(() => _receiver.RequestsFor("acme"), r => r.Any(x => x.EventId == "right-topic"), "the event on the configured topic");

        // Both events went into the same stream queues; once the later one arrived, the earlier one had its chance.
        Assert.DoesNotContain(_receiver.RequestsFor("acme"), r => r.EventId == "wrong-topic");
    }
}
