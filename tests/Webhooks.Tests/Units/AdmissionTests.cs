using Webhooks.Delivery;
using Webhooks.Ingest;

namespace Webhooks.Tests.Units;

public sealed class AdmissionTests
{
    [Fact]
    public void The_ledger_counts_grants_until_their_events_arrive_or_they_lapse()
    {
        var ledger = new AdmissionLedger();
        ledger.Add(3, expiresAt: 100);
        ledger.Add(2, expiresAt: 200);

        Assert.Equal(5, ledger.Outstanding(now: 10));
        Assert.True(ledger.Use(now: 20));
        Assert.Equal(4, ledger.Outstanding(now: 30));

        // The first grant lapses with two credits unused; the second still holds two.
        Assert.Equal(2, ledger.Outstanding(now: 100));
        Assert.True(ledger.Use(now: 150));
        Assert.True(ledger.Use(now: 150));
        Assert.False(ledger.Use(now: 150));
        Assert.Equal(0, ledger.Outstanding(now: 150));
    }

    [Fact]
    public void A_grant_of_nothing_is_not_recorded()
    {
        var ledger = new AdmissionLedger();
        ledger.Add(0, expiresAt: 100);

        Assert.Equal(0, ledger.Outstanding(now: 0));
        Assert.False(ledger.Use(now: 0));
    }

    [Fact]
    public async Task Concurrent_publishers_share_one_request_and_split_its_credits()
    {
        var credits = new TenantCredits();
        var requests = 0;
        var release = new TaskCompletionSource<AdmissionGrant>();
        Task<AdmissionGrant> Request(int size)
        {
            Interlocked.Increment(ref requests);
            return release.Task;
        }

        var pending = new List<Task<AdmissionGrant>>();
        for (var i = 0; i < 10; i++)
        {
            Assert.False(credits.TryTake(now: 0, Request, out var waiting));
            pending.Add(waiting!);
        }

        Assert.Equal(1, requests);
        release.SetResult(new AdmissionGrant(3, TimeSpan.FromTicks(1000), TimeSpan.FromSeconds(1), "webhooks"));
        await Task.WhenAll(pending);

        Assert.Equal("webhooks", credits.Topic);
        Assert.True(credits.TryTake(now: 1, Request, out _));
        Assert.True(credits.TryTake(now: 1, Request, out _));
        Assert.True(credits.TryTake(now: 1, Request, out _));
        Assert.False(credits.TryTake(now: 1, Request, out _));
        Assert.Equal(2, requests);
    }

    [Fact]
    public void Credits_lapse_with_their_lease()
    {
        var credits = new TenantCredits();
        var sizes = new List<int>();
        Task<AdmissionGrant> Request(int size)
        {
            sizes.Add(size);
            return Task.FromResult(new AdmissionGrant(size, TimeSpan.FromTicks(100), TimeSpan.FromSeconds(1), "webhooks"));
        }

        credits.TryTake(now: 0, Request, out _);
        Assert.True(credits.TryTake(now: 50, Request, out _));
        credits.TryTake(now: 60, Request, out _);

        // A batch spent at once doubles the next request (1, then 2); credits left past their lease are dropped and
        // halve it again, so the request made at 1000 asks for 1.
        Assert.False(credits.TryTake(now: 1000, Request, out _));
        Assert.Equal([1, 2, 1], sizes);
    }

    [Fact]
    public void A_busy_tenant_asks_for_twice_as_many_each_time_up_to_64()
    {
        var (credits, sizes, request) = Granting();

        // An event every 10 microseconds: each batch is spent long before a quarter second.
        for (var i = 0; i < 191; i++)
        {
            Spend(credits, request, now: i * 100);
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 64], sizes);
    }

    [Fact]
    public void A_quiet_tenant_asks_for_about_a_quarter_second_of_its_events()
    {
        var (credits, sizes, request) = Granting();

        // Four events a second: a credit lasts a quarter second, so each request asks for one.
        for (var i = 0; i < 4; i++)
        {
            Spend(credits, request, now: i * 250 * TimeSpan.TicksPerMillisecond);
        }

        // Then forty a second: a batch lasts a tenth of that, and the requests grow again.
        for (var i = 0; i < 7; i++)
        {
            Spend(credits, request, now: (1000 + (i * 25)) * TimeSpan.TicksPerMillisecond);
        }

        Assert.Equal([1, 1, 1, 1, 1, 2, 4], sizes);
    }

    [Fact]
    public void A_busy_tenant_that_goes_quiet_next_asks_for_what_it_spent_of_its_lapsed_batch()
    {
        var (credits, sizes, request) = Granting();
        for (var i = 0; i < 127; i++)
        {
            Spend(credits, request, now: i * 100);
        }

        // The batch of 64 granted at the 64th event lasts the burst. The next, granted at the 128th, is spent on that
        // one and three more before its five-second lease ends: the request after it asks for those four, not 32.
        Spend(credits, request, now: 127 * 100);
        for (var i = 1; i <= 3; i++)
        {
            Spend(credits, request, now: i * TimeSpan.TicksPerSecond);
        }

        Spend(credits, request, now: 10 * TimeSpan.TicksPerSecond);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 64, 4], sizes);
    }

    [Fact]
    public void A_grain_short_of_room_granting_less_does_not_shrink_a_busy_tenants_request()
    {
        var sizes = new List<int>();
        Task<AdmissionGrant> Request(int size)
        {
            sizes.Add(size);
            return Task.FromResult(new AdmissionGrant(Math.Min(size, 3), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), "webhooks"));
        }

        var credits = new TenantCredits();
        for (var now = 0; now < 12; now++)
        {
            Spend(credits, Request, now);
        }

        // From the request for 4 on, the grain grants three: the next asks for twice what was spent, not for three.
        Assert.Equal([1, 2, 4, 6, 6], sizes);
    }

    // Takes one credit at `now`, asking for more when none is held; the grants here come at once.
    private static void Spend(TenantCredits credits, Func<int, Task<AdmissionGrant>> request, long now)
    {
        if (!credits.TryTake(now, request, out var pending))
        {
            Assert.True(pending!.IsCompletedSuccessfully);
            Assert.True(credits.TryTake(now, request, out _));
        }
    }

    // Credits whose every request is granted in full, with a five-second lease, and the sizes asked for.
    private static (TenantCredits Credits, List<int> Sizes, Func<int, Task<AdmissionGrant>> Request) Granting()
    {
        var sizes = new List<int>();
        return (new TenantCredits(), sizes, size =>
        {
            sizes.Add(size);
            return Task.FromResult(new AdmissionGrant(size, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), "webhooks"));
        });
    }
}
