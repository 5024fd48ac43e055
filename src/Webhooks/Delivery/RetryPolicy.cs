namespace Webhooks.Delivery;

/// <summary>When a failed delivery is tried again.</summary>
internal static class RetryPolicy
{
    /// <summary>
    /// The wait before the next attempt after <paramref name="attemptsMade"/> failed ones, or null when the schedule is
    /// spent. A <c>Retry-After</c> from the endpoint lengthens the wait, up to <paramref name="maxRetryAfter"/>.
    /// </summary>
    public static TimeSpan? NextDelay(IReadOnlyList<TimeSpan> schedule, int attemptsMade, TimeSpan? retryAfter, TimeSpan maxRetryAfter, double jitter, Random random)
    {
        if (attemptsMade < 1 || attemptsMade > schedule.Count)
        {
            return null;
        }

        var scheduled = schedule[attemptsMade - 1] * (1 + (((random.NextDouble() * 2) - 1) * jitter));
        if (retryAfter is { } asked)
        {
            var honoured = asked < maxRetryAfter ? asked : maxRetryAfter;
            return honoured > scheduled ? honoured : scheduled;
        }

        return scheduled;
    }
}
