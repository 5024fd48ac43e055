using System.Net;
using Microsoft.Extensions.Time.Testing;
using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// Retries, failed events, replay, endpoint health and idempotency, on a test clock: whole retry schedules, hours
/// long, run in seconds.
/// </summary>
public sealed class ReliabilityTests
{
    private static readonly TimeSpan[] Schedule = [.. DeliveryOptions.DefaultRetrySchedule];

    [Fact]
    public async Task A_receiver_that_fails_its_first_calls_gets_every_event_once_after_it_recovers()
    {
        await using var env = await TestEnvironment.StartAsync();
        env.Receiver.FailFirst("flaky", 25);
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("flaky", WebhookEventNames.UsageRecorded, new { customer_id = $"c{i}" })));
        }

        // Attempt 1 of all ten fails, then attempt 2; attempt 3 fails for five and works for five; attempt 4 works.
        await env.SettleAsync("flaky", requests: 10, retrying: 10);
        env.Clock.Advance(Upper(Schedule[0]));
        await env.SettleAsync("flaky", requests: 20, retrying: 10);
        env.Clock.Advance(Upper(Schedule[1]));
        await env.SettleAsync("flaky", requests: 30, retrying: 5);
        env.Clock.Advance(Upper(Schedule[2]));
        await env.SettleAsync("flaky", requests: 35, retrying: 0);

        var successes = env.Receiver.SuccessesFor("flaky");
        Assert.Equal(ids.Order(StringComparer.Ordinal), successes.Keys.Order(StringComparer.Ordinal));
        Assert.All(successes.Values, count => Assert.Equal(1, count));
        var stats = await env.Cluster.Tenant("flaky").GetStats();
        Assert.Equal(10, stats.Delivered);
        Assert.Equal(25, stats.Retries);
        Assert.Equal(0, stats.Failed);
    }

    [Fact]
    public async Task An_event_that_exhausts_the_default_schedule_is_kept_failed_and_a_replay_delivers_it()
    {
        await using var env = await TestEnvironment.StartAsync();
        env.Receiver.RespondWith("down", HttpStatusCode.BadGateway);
        var id = await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("down", WebhookEventNames.PriceDeleted, new { price_id = "p1" }));

        for (var retry = 0; retry < Schedule.Length; retry++)
        {
            await env.SettleAsync("down", requests: retry + 1, retrying: 1);
            env.Clock.Advance(Upper(Schedule[retry]));
        }

        var stats = await env.SettleAsync("down", requests: Schedule.Length + 1, retrying: 0);
        Assert.Equal(1, stats.Failed);
        var failed = Assert.Single(await env.Cluster.Tenant("down").GetFailed());
        Assert.Equal(id, failed.Event.Id);
        Assert.Equal(8, failed.Attempts);
        Assert.Equal(FailureReasons.RetriesExhausted, failed.Reason);
        Assert.Equal(502, failed.LastStatusCode);

        // The history shows all eight attempts, newest first, spaced as the schedule says, within its jitter.
        var attempts = await env.Cluster.Tenant("down").GetAttempts(100);
        Assert.Equal(Enumerable.Range(1, 8).Reverse(), attempts.Select(a => a.Attempt));
        var chronological = attempts.Reverse().ToArray();
        for (var retry = 0; retry < Schedule.Length; retry++)
        {
            var wait = chronological[retry + 1].At - chronological[retry].At;
            Assert.InRange(wait, Schedule[retry] * 0.8, Upper(Schedule[retry]));
        }

        env.Receiver.RespondWith("down", HttpStatusCode.OK);
        var replay = await env.Cluster.Tenant("down").Replay(id);

        Assert.Equal(new ReplayResult(1, 0), replay);
        await env.Receiver.WaitUntilAsync(() => env.Receiver.SuccessesFor("down"), s => s.ContainsKey(id), "the replayed event");
        Assert.Empty(await env.Cluster.Tenant("down").GetFailed());
    }

    [Fact]
    public async Task Retry_after_on_a_503_is_honoured()
    {
        await using var env = await TestEnvironment.StartAsync();
        env.Receiver.FailFirst("busy", 1, HttpStatusCode.ServiceUnavailable, retryAfter: TimeSpan.FromMinutes(10));
        await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("busy", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await env.SettleAsync("busy", requests: 1, retrying: 1);

        // The schedule alone would retry after about 5 s; the endpoint asked for 10 minutes.
        env.Clock.Advance(TimeSpan.FromMinutes(1));
        await env.SettleAsync("busy", requests: 1, retrying: 1);
        env.Clock.Advance(TimeSpan.FromMinutes(9));
        await env.SettleAsync("busy", requests: 2, retrying: 0);

        var attempts = (await env.Cluster.Tenant("busy").GetAttempts(10)).Reverse().ToArray();
        Assert.Equal(503, attempts[0].StatusCode);
        Assert.Equal(200, attempts[1].StatusCode);
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromMinutes(10), $"retried after {attempts[1].At - attempts[0].At}");
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_and_after_enable_a_replay_delivers_the_kept_events()
    {
        await using var env = await TestEnvironment.StartAsync();
        env.Receiver.RespondWith("gone", HttpStatusCode.Gone);
        var tenant = env.Cluster.Tenant("gone");
        var first = await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("gone", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));
        var status = await Eventually.Until(() => tenant.GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled");
        Assert.Contains("410", status.DisabledReason, StringComparison.Ordinal);

        // While disabled, new events are kept as failed without a delivery attempt, and replay is refused.
        var second = await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("gone", WebhookEventNames.PriceUpdated, new { price_id = "p2" }));
        var failed = await Eventually.Until(() => tenant.GetFailed(), f => f.Length == 2, "both events to be kept as failed");
        Assert.Equal([(first, FailureReasons.EndpointGone), (second, FailureReasons.EndpointDisabled)], failed.Select(f => (f.Event.Id, f.Reason)));
        Assert.Single(env.Receiver.RequestsFor("gone"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => tenant.ReplaySince(DateTimeOffset.MinValue));

        env.Receiver.RespondWith("gone", HttpStatusCode.NoContent);
        Assert.True((await tenant.Enable()).Enabled);
        var replay = await tenant.ReplaySince(DateTimeOffset.MinValue);

        Assert.Equal(new ReplayResult(2, 0), replay);
        await env.Receiver.WaitUntilAsync(() => env.Receiver.SuccessesFor("gone"), s => s.Count == 2, "both replayed events");
        var published = await Eventually.Until(
            () => env.Cluster.Client.GetGrain<IEndpointStatusLog>("gone").Received(),
            r => r.Length == 2,
            "the disable and the enable to be published");
        Assert.False(published[0].Enabled);
        Assert.True(published[1].Enabled);
    }

    [Fact]
    public async Task An_endpoint_failing_for_five_days_is_disabled_and_its_events_are_kept()
    {
        await using var env = await TestEnvironment.StartAsync(retrySchedule: ["1.00:00:00", "1.00:00:00", "1.00:00:00", "1.00:00:00", "1.00:00:00", "1.00:00:00"]);
        env.Receiver.RespondWith("slow-death", HttpStatusCode.InternalServerError);
        using var disabled = env.Cluster.CollectCounter("webhooks.endpoints.disabled");
        var id = await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("slow-death", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        for (var day = 1; day <= 5; day++)
        {
            await env.SettleAsync("slow-death", requests: day, retrying: 1);
            env.Clock.Advance(TimeSpan.FromDays(1.21));
        }

        var status = await Eventually.Until(() => env.Cluster.Tenant("slow-death").GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled");
        Assert.Contains("failed", status.DisabledReason, StringComparison.Ordinal);
        Assert.Equal(6, status.ConsecutiveFailures);
        var failed = Assert.Single(await env.Cluster.Tenant("slow-death").GetFailed());
        Assert.Equal((id, FailureReasons.EndpointDisabled), (failed.Event.Id, failed.Reason));
        Assert.Single(disabled.GetMeasurementSnapshot());
        Assert.Contains(env.Cluster.SiloLogs, l => l.Level == LogLevel.Warning && l.Message.Contains("slow-death disabled", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_endpoint_is_disabled_after_the_configured_number_of_failed_attempts_in_a_row()
    {
        await using var env = await TestEnvironment.StartAsync(extraSiloYaml: "  auto_disable_failures: 3\n");
        env.Receiver.RespondWith("broken", HttpStatusCode.InternalServerError);
        for (var i = 0; i < 3; i++)
        {
            await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("broken", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        var status = await Eventually.Until(() => env.Cluster.Tenant("broken").GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled");

        Assert.Equal("3 delivery attempts in a row failed", status.DisabledReason);
        Assert.Equal(3, (await env.Cluster.Tenant("broken").GetFailed()).Length);
        Assert.Equal(3, env.Receiver.RequestsFor("broken").Count);
    }

    [Fact]
    public async Task A_duplicate_id_within_the_window_is_not_delivered_twice()
    {
        await using var env = await TestEnvironment.StartAsync();
        var webhookEvent = WebhookEvent.Create("dedup", WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "c" }) with { Id = "evt-dup-1" };

        await env.Cluster.ClientPublisher.PublishAsync(webhookEvent);
        await env.Receiver.WaitForAsync("dedup", 1);
        await env.Cluster.ClientPublisher.PublishAsync(webhookEvent);
        await env.Cluster.Tenant("dedup").Publish(webhookEvent);

        var stats = await Eventually.Until(
            () => env.Cluster.Tenant("dedup").GetStats(),
            s => s.Filtered.GetValueOrDefault(FilterReasons.Duplicate) == 2,
            "two duplicates to be counted");
        Assert.Equal(1, stats.Delivered);
        Assert.Single(env.Receiver.RequestsFor("dedup"));

        // Once the 24 h window has passed, the id may be used again.
        env.Clock.Advance(TimeSpan.FromHours(25));
        await env.Cluster.ClientPublisher.PublishAsync(webhookEvent);
        await env.Receiver.WaitForAsync("dedup", 2);
    }

    [Fact]
    public async Task A_tenant_stuck_in_retries_does_not_slow_other_tenants()
    {
        await using var env = await TestEnvironment.StartAsync();
        env.Receiver.RespondWith("stuck", HttpStatusCode.InternalServerError);
        for (var i = 0; i < 50; i++)
        {
            await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("stuck", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        await env.SettleAsync("stuck", requests: 50, retrying: 50);
        env.Clock.Advance(Upper(Schedule[0]));

        // The healthy tenant's events go out while the stuck one retries, with no time passing on the test clock.
        for (var i = 0; i < 50; i++)
        {
            await env.Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("healthy", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        await env.Receiver.WaitForAsync("healthy", 50);
        await env.SettleAsync("stuck", requests: 100, retrying: 50);
        await Eventually.Until(async () => (await env.Cluster.Tenant("healthy").GetStats()).Delivered == 50, "the healthy tenant's deliveries to be counted");
    }

    [Fact]
    public async Task A_delivery_that_gets_its_slot_after_its_endpoint_was_disabled_is_kept_failed()
    {
        // Three silo slots: 'busy' holds one, and two of 'stuck's requests hang until the delivery timeout, the second
        // started half a timeout after the first. Its third event waits for a slot, as does one of 'healthy's.
        await using var env = await TestEnvironment.StartAsync(extraSiloYaml: "  max_in_flight: 3\n  auto_disable_failures: 1\n  timeout: 00:00:10\n");
        env.Receiver.Hold("busy");
        env.Receiver.Hang("stuck");
        env.Receiver.Hold("healthy");
        var stuck = env.Cluster.Tenant("stuck");
        await env.Cluster.Tenant("busy").Publish(Event("busy"));
        await env.Receiver.WaitForAsync("busy", 1);
        var first = await stuck.Publish(Event("stuck"));
        await env.Receiver.WaitForAsync("stuck", 1);
        env.Clock.Advance(TimeSpan.FromSeconds(5));
        var second = await stuck.Publish(Event("stuck"));
        await env.Receiver.WaitForAsync("stuck", 2);
        var third = await stuck.Publish(Event("stuck"));
        await Eventually.Until(() => stuck.GetStats(), s => s.InFlight == 3, "the third event to wait for a slot");
        await env.Cluster.Tenant("healthy").Publish(Event("healthy"));
        await Eventually.Until(() => env.Cluster.Tenant("healthy").GetStats(), s => s.InFlight == 1, "'healthy' to wait for a slot");

        // The first times out: the endpoint is disabled and drops to one request at a time; its slot goes to
        // 'healthy', which holds fewer.
        env.Clock.Advance(TimeSpan.FromSeconds(5));
        await Eventually.Until(() => stuck.GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled");
        await env.Receiver.WaitForAsync("healthy", 1);

        // 'busy' gives its slot back to the third while the second is still out: not sent, and kept for replay.
        env.Receiver.Release("busy");
        var failed = await Eventually.Until(() => stuck.GetFailed(), f => f.Length == 2, "the first and third events to be kept failed");
        Assert.Equal(new[] { first, third }.Order(StringComparer.Ordinal), failed.Select(f => f.Event.Id).Order(StringComparer.Ordinal));
        Assert.All(failed, f => Assert.Equal(FailureReasons.EndpointDisabled, f.Reason));
        Assert.Equal(2, env.Receiver.RequestsFor("stuck").Count);

        env.Clock.Advance(TimeSpan.FromSeconds(5));
        var stats = await Eventually.Until(() => stuck.GetStats(), s => s.InFlight == 0 && s.Failed == 3, "the second event to time out and be kept failed");
        Assert.Equal(0, stats.Buffered);
        Assert.Equal(3, stats.Received);
        Assert.Contains(second, (await stuck.GetFailed()).Select(f => f.Event.Id));
        env.Receiver.Release("healthy");
    }

    private static WebhookEvent Event(string tenant) => WebhookEvent.Create(tenant, WebhookEventNames.PriceUpdated, new { price_id = "p" });

    private static TimeSpan Upper(TimeSpan wait) => (wait * 1.2) + TimeSpan.FromSeconds(1);

    /// <summary>A receiver and a one-silo cluster on a test clock.</summary>
    private sealed class TestEnvironment : IAsyncDisposable
    {
        public required FakeTimeProvider Clock { get; init; }

        public required WebhookReceiver Receiver { get; init; }

        public required WebhookCluster Cluster { get; init; }

        public static async Task<TestEnvironment> StartAsync(string[]? retrySchedule = null, string extraSiloYaml = "")
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
            var receiver = await WebhookReceiver.StartAsync();
            var tenants = new TenantsYaml();
            foreach (var tenant in new[] { "flaky", "down", "busy", "gone", "slow-death", "broken", "dedup", "stuck", "healthy" })
            {
                tenants.Tenant(tenant, receiver.EndpointFor(tenant), retrySchedule: retrySchedule);
            }

            var cluster = await WebhookCluster.StartAsync(tenants, "delivery:\n  max_concurrency: 16\n" + extraSiloYaml, clock: clock);
            return new TestEnvironment { Clock = clock, Receiver = receiver, Cluster = cluster };
        }

        /// <summary>Waits until the tenant has had <paramref name="requests"/> requests and has settled: nothing in flight.</summary>
        public async Task<TenantWebhookStats> SettleAsync(string tenant, int requests, int retrying)
        {
            await Receiver.WaitForAsync(tenant, requests);
            var stats = await Eventually.Until(
                () => Cluster.Tenant(tenant).GetStats(),
                s => s.InFlight == 0 && s.Buffered == 0 && s.Retrying == retrying,
                $"'{tenant}' to settle with {retrying} event(s) waiting for a retry");
            Assert.Equal(requests, Receiver.RequestsFor(tenant).Count);
            return stats;
        }

        public async ValueTask DisposeAsync()
        {
            await Receiver.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }
}
