using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

/// <summary>
/// The silo's delivery slots go, when scarce, to the waiting tenant that holds the fewest: a tenant whose deliveries
/// hang and pile up cannot take every slot in turn while others wait.
/// </summary>
public sealed class DeliverySlotsTests
{
    private static DeliverySlots Slots(int maxInFlight) => new(Options.Create(new DeliveryOptions { MaxInFlight = maxInFlight }));

    [Fact]
    public void Free_slots_are_taken_at_once_and_counted_per_tenant()
    {
        var slots = Slots(3);

        Assert.True(slots.WaitAsync("a").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("a").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("b").IsCompletedSuccessfully);

        Assert.Equal(0, slots.Available);
        Assert.Equal(2, slots.HeldBy("a"));
        Assert.Equal(1, slots.HeldBy("b"));
        Assert.False(slots.WaitAsync("c").IsCompleted);
    }

    [Fact]
    public void A_freed_slot_goes_to_the_waiting_tenant_that_holds_the_fewest_not_to_the_first_in_line()
    {
        var slots = Slots(4);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(slots.WaitAsync("hanging").IsCompletedSuccessfully);
        }

        Assert.True(slots.WaitAsync("healthy").IsCompletedSuccessfully);

        // The hanging tenant queued first and queued more, yet the healthy tenant, holding fewer, is served first.
        var hangingWaits = Enumerable.Range(0, 3).Select(_ => slots.WaitAsync("hanging")).ToList();
        var healthyWait = slots.WaitAsync("healthy");
        var newcomerWait = slots.WaitAsync("newcomer");

        slots.Release("healthy");
        Assert.True(newcomerWait.IsCompletedSuccessfully);
        Assert.False(healthyWait.IsCompleted);
        Assert.All(hangingWaits, wait => Assert.False(wait.IsCompleted));

        slots.Release("hanging");
        Assert.True(healthyWait.IsCompletedSuccessfully);
        Assert.All(hangingWaits, wait => Assert.False(wait.IsCompleted));

        // With nobody else waiting, the hanging tenant's waiters are served in their own order.
        slots.Release("newcomer");
        Assert.True(hangingWaits[0].IsCompletedSuccessfully);
        Assert.False(hangingWaits[1].IsCompleted);
        Assert.Equal(3, slots.HeldBy("hanging"));
        Assert.Equal(0, slots.HeldBy("newcomer"));
    }

    [Fact]
    public void Tenants_holding_as_many_are_served_in_turn()
    {
        var slots = Slots(4);
        Assert.True(slots.WaitAsync("a").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("b").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("c").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("c").IsCompletedSuccessfully);
        var a1 = slots.WaitAsync("a");
        var a2 = slots.WaitAsync("a");
        var b1 = slots.WaitAsync("b");

        // a and b hold one each: a asked first.
        slots.Release("c");
        Assert.True(a1.IsCompletedSuccessfully);
        Assert.False(b1.IsCompleted);

        // a now holds two: b goes before a's second waiter.
        slots.Release("c");
        Assert.True(b1.IsCompletedSuccessfully);
        Assert.False(a2.IsCompleted);

        slots.Release("b");
        Assert.True(a2.IsCompletedSuccessfully);
        Assert.Equal(0, slots.Available);
        Assert.Equal(3, slots.HeldBy("a"));
    }

    [Fact]
    public void Releasing_every_slot_frees_them_all_and_forgets_the_tenants()
    {
        var slots = Slots(2);
        Assert.True(slots.WaitAsync("a").IsCompletedSuccessfully);
        Assert.True(slots.WaitAsync("b").IsCompletedSuccessfully);
        var tenants = Enumerable.Range(0, 100).Select(i => i % 2 == 0 ? "a" : $"t{i}").ToList();
        var waits = tenants.Select(slots.WaitAsync).ToList();

        // Whoever holds a slot gives it back, until every waiter has been served and has given its slot back too.
        var names = tenants.Append("b").Distinct().ToList();
        var releases = 0;
        while (names.FirstOrDefault(name => slots.HeldBy(name) > 0) is { } holder)
        {
            slots.Release(holder);
            releases++;
        }

        var served = waits.Count(wait => wait.IsCompletedSuccessfully);
        Assert.Equal(102, releases);
        Assert.Equal(100, served);
        Assert.Equal(2, slots.Available);
        Assert.Equal(0, slots.HeldBy("a"));
        Assert.Throws<InvalidOperationException>(() => slots.Release("a"));
    }
}
