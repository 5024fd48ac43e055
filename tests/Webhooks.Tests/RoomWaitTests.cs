namespace Webhooks.Tests;

/// <summary>
/// A direct publish that finds its tenant's buffer full waits for room, up to <c>ingest.max_wait</c>; waiting publishes
/// get in one by one as room frees, in the order they came.
/// </summary>
public sealed class RoomWaitTests
{
    private const string SiloYaml = """
        delivery:
          timeout: 00:01:00
          max_concurrency: 1
          buffer_size: 1
        ingest:
          max_wait: 00:00:30
        """;

    [Fact]
    public async Task Publishes_waiting_for_room_get_in_in_the_order_they_came_and_each_is_delivered_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hold("held");
        await using var cluster = await WebhookCluster.StartAsync(new TenantsYaml().Tenant("held", receiver.EndpointFor("held")), SiloYaml);
        var grain = cluster.Tenant("held");

        // One delivery is held open at the receiver and one event fills the buffer: the next four wait in line, each
        // published once the one before it is waiting (calls issued together may reach the grain in any order).
        await grain.Publish(Price(0));
        await grain.Publish(Price(1));
        var waiting = new List<Task<string>>();
        for (var i = 2; i < 6; i++)
        {
            waiting.Add(grain.Publish(Price(i)));
            var count = waiting.Count;
            await Eventually.Until(grain.GetStats, stats => stats.WaitingForRoom == count, $"{count} publishes to wait for room");
        }

        var before = await grain.GetStats();
        Assert.Equal(2, before.Received);
        Assert.DoesNotContain(waiting, publish => publish.IsCompleted);

        // Each delivery that ends makes room for one more.
        receiver.Release("held");
        await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(20));
        var delivered = await receiver.WaitForAsync("held", 6);
        Assert.Equal(
            Enumerable.Range(0, 6).Select(i => $$"""{"price_id":"p{{i}}","amount":100}"""),
            delivered.Select(request => request.Json.GetProperty("payload").GetRawText()));

        var after = await Eventually.Until(grain.GetStats, stats => stats.Delivered == 6, "the six deliveries to be counted");
        Assert.Equal(6, after.Received);
        Assert.Equal(0, after.Refused);
        Assert.Equal(0, after.Buffered);
        Assert.Equal(0, after.WaitingForRoom);
    }

    private static WebhookEvent Price(int i) =>
        WebhookEvent.Create("held", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}", amount = 100 });
}
