using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Webhooks.Configuration;
using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

/// <summary>Publishes that wait for the silo's room look again together, on one timer for the whole silo.</summary>
public sealed class SiloBacklogPollTests
{
    [Fact]
    public void Waiters_share_the_next_poll_and_it_comes_one_interval_after_the_first_asked()
    {
        var clock = new FakeTimeProvider();
        using var backlog = new SiloBacklog(Options.Create(new DeliveryOptions()), clock);

        var first = backlog.NextPoll;
        clock.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Same(first, backlog.NextPoll);
        AssertDueAfter(first, SiloBacklog.PollInterval - TimeSpan.FromMilliseconds(20));

        // The next waiter asks for a new poll, a whole interval later.
        var next = backlog.NextPoll;
        Assert.NotSame(first, next);
        AssertDueAfter(next, SiloBacklog.PollInterval);

        // While nobody waits no poll runs, so one asked for after a quiet spell still waits its whole interval.
        clock.Advance(SiloBacklog.PollInterval * 10);
        AssertDueAfter(backlog.NextPoll, SiloBacklog.PollInterval);

        void AssertDueAfter(Task poll, TimeSpan wait)
        {
            clock.Advance(wait - TimeSpan.FromTicks(1));
            Assert.False(poll.IsCompleted);
            clock.Advance(TimeSpan.FromTicks(1));
            Assert.True(poll.IsCompletedSuccessfully);
        }
    }

    [Fact]
    public void Disposing_the_backlog_ends_the_wait_of_those_still_waiting()
    {
        var clock = new FakeTimeProvider();
        var backlog = new SiloBacklog(Options.Create(new DeliveryOptions()), clock);
        var waiting = backlog.NextPoll;

        backlog.Dispose();

        Assert.True(waiting.IsCompletedSuccessfully);
    }
}
