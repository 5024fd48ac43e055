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

        // Each full grant doubles the next request (1, 2, then 4); credits left past their lease are dropped and
        // halve it again, so the request made at 1000 asks for 2.
        Assert.False(credits.TryTake(now: 1000, Request, out _));
        Assert.Equal([1, 2, 2], sizes);
    }
}
