namespace Webhooks.Tests;

/// <summary>
/// The silo-wide limit on deliveries in flight (<c>delivery.max_in_flight</c>): while every slot is taken, a tenant
/// starts one delivery that waits for the next slot, and its other events wait in line as events.
/// </summary>
public sealed class SiloSlotsTests
{
    [Fact]
    public async Task While_every_slot_is_taken_a_tenant_starts_one_delivery_and_the_rest_wait_in_line_in_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hold("holder");
        var tenants = new TenantsYaml()
            .Tenant("holder", receiver.EndpointFor("holder"))
            .Tenant("queued", receiver.EndpointFor("queued"));
        await using var cluster = await WebhookCluster.StartAsync(tenants, """
            delivery:
              max_in_flight: 1
            """);

        await cluster.Tenant("holder").Publish(WebhookEvent.Create("holder", WebhookEventNames.UsageRecorded, new { customer_id = "h", quantity = 1 }));
        await receiver.WaitUntilAsync(() => receiver.OpenRequests("holder"), open => open == 1, "the holder's delivery to take the silo's one slot");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await cluster.Tenant("queued").Publish(WebhookEvent.Create("queued", WebhookEventNames.UsageRecorded, new { customer_id = $"c{i}", quantity = 1 })));
        }

        var waiting = await cluster.Tenant("queued").GetStats();
        Assert.Equal(1, waiting.InFlight);
        Assert.Equal(4, waiting.Buffered);

        // The slot frees: the queued tenant's deliveries take it one after another, in the order they were published.
        receiver.Release("holder");
        var delivered = await receiver.WaitForAsync("queued", 5);
        Assert.Equal(ids, delivered.Select(request => request.EventId));
        var stats = await Eventually.Until(() => cluster.Tenant("queued").GetStats(), s => s.Delivered == 5, "the queued tenant to record its five deliveries");
        Assert.Equal(0, stats.InFlight);
        Assert.Equal(0, stats.Buffered);
    }
}
