using Orleans.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// A tenant grain that is deactivated (silo shutdown, rebalancing) first finishes its backlog; what it cannot finish in
/// time is counted and logged as dropped, never lost silently.
/// </summary>
public sealed class DeactivationTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.AnswerAfter("slow", TimeSpan.FromMilliseconds(200));
        _receiver.Hang("hung");
        var tenants = new TenantsYaml()
            .Tenant("slow", _receiver.EndpointFor("slow"))
            .Tenant("hung", _receiver.EndpointFor("hung"));
        _cluster = await WebhookCluster.StartAsync(
            tenants,
            """
            delivery:
              timeout: 00:01:00
              max_concurrency: 1
            """,
            configureSilo: silo => silo.Configure<GrainCollectionOptions>(options => options.DeactivationTimeout = TimeSpan.FromSeconds(3)));
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_deactivating_grain_delivers_its_backlog_first()
    {
        var grain = _cluster.Tenant("slow");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await grain.Publish(WebhookEvent.Create("slow", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" })));
        }

        Assert.Equal(4, (await grain.GetStats()).Buffered);
        await _cluster.Cluster.DeactivateAsync(grain);

        var delivered = await _receiver.WaitForAsync("slow", 5);
        Assert.Equal(ids, delivered.Select(r => r.EventId));
        Assert.DoesNotContain(_cluster.SiloLogs, l => l.Message.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task What_cannot_be_delivered_in_time_is_counted_and_logged_as_dropped()
    {
        using var dropped = _cluster.CollectCounter("webhooks.events.dropped");
        var grain = _cluster.Tenant("hung");
        for (var i = 0; i < 3; i++)
        {
            await grain.Publish(WebhookEvent.Create("hung", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        await _cluster.Cluster.DeactivateAsync(grain);

        await Eventually.Until(
            () => Task.FromResult(_cluster.SiloLogs.Any(l => l.Level == LogLevel.Error && l.Message.Contains("dropped", StringComparison.Ordinal))),
            "the drop to be logged");
        Assert.Equal(2, dropped.GetMeasurementSnapshot().Sum(m => m.Value));
        var log = Assert.Single(_cluster.SiloLogs, l => l.Level == LogLevel.Error && l.Message.Contains("dropped", StringComparison.Ordinal));
        Assert.Contains("hung", log.Message, StringComparison.Ordinal);
        Assert.Contains("2 buffered events", log.Message, StringComparison.Ordinal);
        Assert.Contains("1 deliveries in flight", log.Message, StringComparison.Ordinal);
    }
}
