namespace Webhooks.Tests;

/// <summary>
/// Two publishes of one event that meet on the tenant grain, both waiting for room in a full buffer, end as one
/// accepted event and one duplicate: the second waits for the first's outcome instead of racing it.
/// </summary>
public sealed class ConcurrentDuplicateTests : IAsyncLifetime
{
    private const string SiloYaml = """
        delivery:
          max_concurrency: 1
          buffer_size: 1
        ingest:
          max_wait: 00:00:20
        """;

    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.AnswerAfter("dup", TimeSpan.FromMilliseconds(300));
        _cluster = await WebhookCluster.StartAsync(new TenantsYaml().Tenant("dup", _receiver.EndpointFor("dup")), SiloYaml);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Two_publishes_of_one_event_waiting_for_room_deliver_it_once()
    {
        var grain = _cluster.Tenant("dup");

        // One in flight and one waiting fill the tenant.
        await grain.Publish(WebhookEvent.Create("dup", WebhookEventNames.PriceUpdated, new { price_id = "first" }));
        await grain.Publish(WebhookEvent.Create("dup", WebhookEventNames.PriceUpdated, new { price_id = "second" }));

        var again = WebhookEvent.Create("dup", WebhookEventNames.PriceUpdated, new { price_id = "again" }) with { Id = "evt-again" };
        var ids = await Task.WhenAll(grain.Publish(again), grain.Publish(again));

        Assert.Equal([again.Id, again.Id], ids);
        var requests = await _receiver.WaitForAsync("dup", 3);
        var stats = await Eventually.Until(() => grain.GetStats(), s => s.Delivered == 3, "the three distinct events to be delivered");
        Assert.Equal(4, stats.Received);
        Assert.Equal(1, stats.Filtered[FilterReasons.Duplicate]);
        Assert.Equal(0, stats.Refused);
        Assert.Single(_receiver.RequestsFor("dup"), r => r.Body.Contains(again.Id, StringComparison.Ordinal));
        Assert.Equal(3, requests.Count);
    }
}
