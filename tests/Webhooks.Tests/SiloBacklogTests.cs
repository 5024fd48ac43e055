using Microsoft.Extensions.Time.Testing;
using Webhooks.Delivery;

namespace Webhooks.Tests;

/// <summary>
/// The silo-wide bound on undelivered events (<c>delivery.max_pending</c>): tenants that stop draining share it, and
/// room a gateway reserved and never used comes back even when nothing else calls the tenant.
/// </summary>
public sealed class SiloBacklogTests
{
    private const string SiloYaml = """
        delivery:
          timeout: 00:01:00
          max_concurrency: 1
          buffer_size: 100
          max_pending: 20
        ingest:
          max_wait: 00:00:00.200
        """;

    [Fact]
    public async Task A_delivery_that_ends_after_its_endpoint_was_disabled_gives_its_room_back()
    {
        await using var receiver = await WebhookReceiver.StartAsync();

        // The first request is answered 410 at once, which disables the endpoint; the other is answered 200 later.
        receiver.FailFirst("gone", 1, System.Net.HttpStatusCode.Gone, successDelay: TimeSpan.FromMilliseconds(300));
        await using var cluster = await WebhookCluster.StartAsync(new TenantsYaml().Tenant("gone", receiver.EndpointFor("gone")), "delivery:\n  max_concurrency: 4\n");
        var grain = cluster.Tenant("gone");
        await grain.Publish(WebhookEvent.Create("gone", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));
        await grain.Publish(WebhookEvent.Create("gone", WebhookEventNames.PriceUpdated, new { price_id = "p2" }));

        var stats = await Eventually.Until(() => grain.GetStats(), s => s.InFlight == 0 && s.Delivered == 1 && s.Failed == 1, "one event delivered and one kept failed");

        Assert.False((await grain.GetEndpointStatus()).Enabled);
        Assert.Equal(0, stats.Buffered);
        Assert.Equal(0, cluster.Cluster.Silos[0].ServiceProvider.GetRequiredService<SiloBacklog>().Held);
    }

    [Fact]
    public async Task Tenants_that_hang_fill_only_part_of_the_backlog_and_a_healthy_tenant_still_gets_in()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck-a");
        receiver.Hang("stuck-b");
        var tenants = new TenantsYaml()
            .Tenant("stuck-a", receiver.EndpointFor("stuck-a"))
            .Tenant("stuck-b", receiver.EndpointFor("stuck-b"))
            .Tenant("healthy", receiver.EndpointFor("healthy"));
        var cluster = await WebhookCluster.StartAsync(tenants, SiloYaml);
        await using var _ = new Stopping(receiver, cluster);

        // Alone, a tenant may hold no more than the silo has free: 10 of 20. Its own buffer (101) is far from full.
        var a = await PublishUntilRefusedAsync(cluster.Tenant("stuck-a"), "stuck-a");
        Assert.Equal(10, a.Accepted);
        Assert.Equal(OverflowReason.SiloBacklogFull, a.Refusal.Reason);

        // The second stuck tenant gets a share of what is left: it holds no more than the 10 - 5 still free.
        var b = await PublishUntilRefusedAsync(cluster.Tenant("stuck-b"), "stuck-b");
        Assert.Equal(5, b.Accepted);
        Assert.Equal(OverflowReason.SiloBacklogFull, b.Refusal.Reason);

        // With 15 of 20 held by tenants that never answer, a tenant that delivers still gets in, again and again.
        for (var i = 0; i < 3; i++)
        {
            await cluster.Tenant("healthy").Publish(Usage("healthy", $"c{i}"));
            await receiver.WaitForAsync("healthy", i + 1);
        }

        var stats = await cluster.Tenant("stuck-a").GetStats();
        Assert.Equal(10, stats.Received);
        Assert.Equal(1, stats.Refused);
        await receiver.WaitUntilAsync(() => receiver.OpenRequests("stuck-a"), open => open == 1, "the delivery in flight to hang at the receiver");
    }

    [Fact]
    public async Task Room_a_gateway_reserved_and_did_not_use_returns_when_its_lease_ends_without_another_call()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenants = new TenantsYaml().Tenant("other", receiver.EndpointFor("other"));
        for (var i = 0; i < 5; i++)
        {
            tenants.Tenant($"reserving{i}", receiver.EndpointFor($"reserving{i}"));
        }

        await using var cluster = await WebhookCluster.StartAsync(tenants, SiloYaml, clock: clock);

        // Gateways reserve room for events they then never publish. Each tenant gets at most half of what is free, as
        // single publishes would: 10, 5, 3, 1 and 1 of the 20 fill the backlog between five tenants.
        var grants = new List<AdmissionGrant>();
        for (var i = 0; i < 5; i++)
        {
            grants.Add(await cluster.Tenant($"reserving{i}").Admit(100));
        }

        Assert.Equal([10, 5, 3, 1, 1], grants.Select(grant => grant.Credits));
        var reserved = grants[^1];

        var refused = await cluster.Tenant("other").Admit(1);
        Assert.Equal(0, refused.Credits);
        Assert.Equal(OverflowReason.SiloBacklogFull, refused.Refusal);

        // The reservations lapse after their lease and grace; no call reaches the reserving tenants, yet the room returns.
        clock.Advance(reserved.Lease + TimeSpan.FromSeconds(6));
        var granted = await Eventually.Until(() => cluster.Tenant("other").Admit(1), grant => grant.Credits == 1, "the lapsed reservation to leave the backlog");
        Assert.Equal(1, granted.Credits);
    }

    [Fact]
    public async Task A_publish_waiting_for_the_silos_room_gets_in_when_another_tenant_frees_it()
    {
        // Room a tenant's own deliveries free wakes that tenant's waiting publishes; room freed on another tenant's grain
        // is found by the silo's poll. Here nothing this tenant does can free room: its only delivery is held open.
        await using var held = await StartHeldAsync(maxPending: 4, clock: null, "busy", "waiting");
        var (receiver, cluster) = (held.Receiver, held.Cluster);
        var busy = cluster.Tenant("busy");
        var waiting = cluster.Tenant("waiting");

        // Each tenant's own held events count twice against what is free: busy takes 2 of 4, waiting 1, and waiting's
        // second publish finds no room.
        await busy.Publish(Usage("busy", "b1"));
        await busy.Publish(Usage("busy", "b2"));
        await waiting.Publish(Usage("waiting", "w1"));
        var blocked = waiting.Publish(Usage("waiting", "w2"));

        var before = await Eventually.Until(waiting.GetStats, stats => stats.WaitingForRoom == 1, "the second publish to wait for room");
        Assert.False(blocked.IsCompleted);
        Assert.Equal(1, before.Received);
        Assert.Equal(0, before.Refused);

        // Busy's deliveries end; the waiting publish is accepted long before its 30 s run out, and delivered.
        receiver.Release("busy");
        await blocked.WaitAsync(TimeSpan.FromSeconds(20));
        receiver.Release("waiting");
        var delivered = await receiver.WaitForAsync("waiting", 2);
        Assert.Equal(["w1", "w2"], Customers(delivered).Order());
        var after = await waiting.GetStats();
        Assert.Equal(2, after.Received);
        Assert.Equal(0, after.Refused);
        Assert.Equal(0, after.WaitingForRoom);
    }

    [Fact]
    public async Task A_gateway_is_not_granted_the_room_a_waiting_direct_publish_is_in_line_for()
    {
        // The engine's clock stands still, so the publish waiting for the silo's room looks again only when the test
        // moves it on: room that frees on another tenant's grain stays free until then.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));
        await using var held = await StartHeldAsync(maxPending: 8, clock, "busy", "mixed");
        var (receiver, cluster) = (held.Receiver, held.Cluster);
        var busy = cluster.Tenant("busy");
        var mixed = cluster.Tenant("mixed");

        // Held events count twice against what is free: busy takes 4 of 8, mixed 2, and mixed's third publish waits.
        for (var i = 1; i <= 4; i++)
        {
            await busy.Publish(Usage("busy", $"b{i}"));
        }

        await mixed.Publish(Usage("mixed", "m1"));
        await mixed.Publish(Usage("mixed", "m2"));
        var blocked = mixed.Publish(Usage("mixed", "m3"));
        await Eventually.Until(mixed.GetStats, stats => stats.WaitingForRoom == 1, "the third publish to wait for room");

        // Busy's four are delivered, which frees the silo's room on busy's grain: 2 held of 8.
        receiver.Release("busy");
        await receiver.WaitForAsync("busy", 4);
        await Eventually.Until(busy.GetStats, stats => stats is { Delivered: 4, InFlight: 0, Buffered: 0 }, "busy to hold nothing");

        // Mixed's share is now 8 - 2 - 2 = 4. The waiting publish will take one of it, and one more counted for the
        // silo; of the 2 left, a gateway gets half, as a publish after the waiting one would. Without the line first
        // the gateway would get 2 and leave the waiting publish no room.
        var grant = await mixed.Admit(10);
        Assert.Equal(1, grant.Credits);
        Assert.False(blocked.IsCompleted);

        // At its next look the waiting publish finds its room, with a credit still outstanding.
        clock.Advance(SiloBacklog.PollInterval);
        await blocked.WaitAsync(TimeSpan.FromSeconds(20));
        var stats = await mixed.GetStats();
        Assert.Equal(3, stats.Received);
        Assert.Equal(0, stats.Refused);
        Assert.Equal(0, stats.WaitingForRoom);

        receiver.Release("mixed");
        var delivered = await receiver.WaitForAsync("mixed", 3);
        Assert.Equal(["m1", "m2", "m3"], Customers(delivered));
    }

    private static WebhookEvent Usage(string tenant, string customer) =>
        WebhookEvent.Create(tenant, WebhookEventNames.UsageRecorded, new { customer_id = customer, quantity = 1 });

    private static IEnumerable<string?> Customers(IEnumerable<ReceivedRequest> delivered) =>
        delivered.Select(request => request.Json.GetProperty("payload").GetProperty("customer_id").GetString());

    // Tenants whose deliveries the receiver holds open until released, one at a time each, on a silo whose backlog
    // holds maxPending events and whose publishes wait up to 30 s for room.
    private static async Task<Stopping> StartHeldAsync(int maxPending, TimeProvider? clock, params string[] tenantIds)
    {
        var yaml = $"""
            delivery:
              timeout: 00:01:00
              max_concurrency: 1
              buffer_size: 100
              max_pending: {maxPending}
            ingest:
              max_wait: 00:00:30
            """;
        var receiver = await WebhookReceiver.StartAsync();
        var tenants = new TenantsYaml();
        foreach (var tenantId in tenantIds)
        {
            receiver.Hold(tenantId);
            tenants.Tenant(tenantId, receiver.EndpointFor(tenantId));
        }

        return new Stopping(receiver, await WebhookCluster.StartAsync(tenants, yaml, clock: clock));
    }

    // Stops the receiver first, which ends the hanging requests, so that the silo stops without waiting for them.
    private sealed class Stopping(WebhookReceiver receiver, WebhookCluster cluster) : IAsyncDisposable
    {
        public WebhookReceiver Receiver => receiver;

        public WebhookCluster Cluster => cluster;

        public async ValueTask DisposeAsync()
        {
            await receiver.DisposeAsync();
            await cluster.DisposeAsync();
        }
    }

    private static async Task<(int Accepted, WebhookOverflowException Refusal)> PublishUntilRefusedAsync(ITenantWebhookGrain grain, string tenant)
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                await grain.Publish(Usage(tenant, $"c{i}"));
            }
            catch (WebhookOverflowException ex)
            {
                return (i, ex);
            }
        }

        throw new InvalidOperationException($"{tenant} took 200 events without a refusal");
    }
}
