using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

/// <summary>The wait before each retry: the schedule's step, varied by the jitter either way, lengthened by Retry-After.</summary>
public sealed class RetryPolicyTests
{
    private static readonly TimeSpan[] Schedule = [TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30)];

    [Fact]
    public void Each_wait_is_its_step_with_no_jitter_and_the_schedule_ends()
    {
        var random = new Random(1);

        Assert.Equal(TimeSpan.FromSeconds(5), RetryPolicy.NextDelay(Schedule, 1, null, TimeSpan.FromHours(1), 0, random));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryPolicy.NextDelay(Schedule, 2, null, TimeSpan.FromHours(1), 0, random));
        Assert.Equal(TimeSpan.FromMinutes(30), RetryPolicy.NextDelay(Schedule, 3, null, TimeSpan.FromHours(1), 0, random));
        Assert.Null(RetryPolicy.NextDelay(Schedule, 4, null, TimeSpan.FromHours(1), 0, random));
        Assert.Null(RetryPolicy.NextDelay(Schedule, 0, null, TimeSpan.FromHours(1), 0, random));
    }

    [Fact]
    public void Jitter_spreads_the_waits_over_the_whole_band_either_way_and_never_beyond()
    {
        var random = new Random(42);
        var step = TimeSpan.FromMinutes(5);
        var waits = Enumerable.Range(0, 10_000)
            .Select(_ => RetryPolicy.NextDelay(Schedule, 2, null, TimeSpan.FromHours(1), 0.2, random)!.Value)
            .ToList();

        Assert.All(waits, wait => Assert.InRange(wait, step * 0.8, step * 1.2));

        // Both ends of the band are reached, and the waits centre on the step: retries do not come in waves.
        Assert.True(waits.Min() < step * 0.81, $"shortest wait {waits.Min()}");
        Assert.True(waits.Max() > step * 1.19, $"longest wait {waits.Max()}");
        Assert.InRange(waits.Average(wait => wait.TotalSeconds), step.TotalSeconds * 0.99, step.TotalSeconds * 1.01);
        Assert.True(waits.Distinct().Count() > 9_000);
    }

    [Fact]
    public void Retry_after_lengthens_a_wait_up_to_the_cap_and_never_shortens_one()
    {
        var random = new Random(7);
        var cap = TimeSpan.FromHours(1);

        Assert.Equal(TimeSpan.FromMinutes(10), RetryPolicy.NextDelay(Schedule, 1, TimeSpan.FromMinutes(10), cap, 0, random));
        Assert.Equal(cap, RetryPolicy.NextDelay(Schedule, 1, TimeSpan.FromHours(5), cap, 0, random));
        Assert.Equal(TimeSpan.FromMinutes(30), RetryPolicy.NextDelay(Schedule, 3, TimeSpan.FromSeconds(1), cap, 0, random));
        Assert.Null(RetryPolicy.NextDelay(Schedule, 4, TimeSpan.FromMinutes(1), cap, 0, random));
    }
}
