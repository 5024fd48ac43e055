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

        await cluster.Tenant("holder").Publish(Usage("holder", 0));
        await receiver.WaitUntilAsync(() => receiver.OpenRequests("holder"), open => open == 1, "the holder's delivery to take the silo's one slot");

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await cluster.Tenant("queued").Publish(Usage("queued", i)));
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

    [Fact]
    public async Task A_tenant_with_events_in_line_keeps_a_delivery_waiting_so_a_slot_it_frees_comes_back_to_it()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck");
        receiver.AnswerAfter("healthy", TimeSpan.FromMilliseconds(200));
        var tenants = new TenantsYaml()
            .Tenant("stuck", receiver.EndpointFor("stuck"))
            .Tenant("healthy", receiver.EndpointFor("healthy"));
        var cluster = await WebhookCluster.StartAsync(tenants, """
            delivery:
              timeout: 00:01:00
              max_in_flight: 3
            """);
        try
        {
            await SharesSlotsAsync(receiver, cluster);
        }
        finally
        {
            // The receiver first: stopping it ends the hanging requests, so the silo stops without waiting for them.
            await receiver.DisposeAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task SharesSlotsAsync(WebhookReceiver receiver, WebhookCluster cluster)
    {

        // A tenant whose endpoint hangs holds two of the three slots.
        await cluster.Tenant("stuck").Publish(Usage("stuck", 0));
        await cluster.Tenant("stuck").Publish(Usage("stuck", 1));
        await receiver.WaitUntilAsync(() => receiver.OpenRequests("stuck"), open => open == 2, "two hanging deliveries to hold two slots");

        // A healthy tenant's four events: one takes the last slot, the next waits for a slot, the rest wait in line.
        for (var i = 0; i < 4; i++)
        {
            await cluster.Tenant("healthy").Publish(Usage("healthy", i));
        }

        // The stuck tenant's third delivery waits for a slot too, holding two where the healthy tenant holds one.
        await cluster.Tenant("stuck").Publish(Usage("stuck", 2));
        await Eventually.Until(() => cluster.Tenant("stuck").GetStats(), stats => stats.InFlight == 3, "the stuck tenant's third delivery to wait for a slot");

        // Each time the healthy tenant gives a slot back it holds fewer than the stuck one, and its next delivery is
        // already waiting: it gets the slot every time, and its four events arrive long before the stuck ones time out.
        var delivered = await receiver.WaitForAsync("healthy", 4, TimeSpan.FromSeconds(20));
        Assert.Equal(4, delivered.Count);
        Assert.Equal(2, receiver.OpenRequests("stuck"));
    }

    private static WebhookEvent Usage(string tenant, int i) =>
        WebhookEvent.Create(tenant, WebhookEventNames.UsageRecorded, new { customer_id = $"c{i}", quantity = 1 });
}
