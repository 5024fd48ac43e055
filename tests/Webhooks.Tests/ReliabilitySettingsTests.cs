using System.Net;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// Reliability settings at work, on a test clock: the cap on <c>Retry-After</c>, a configured idempotency window, and a
/// long retry that outlives its grain's activation in memory storage.
/// </summary>
public sealed class ReliabilitySettingsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task A_retry_after_longer_than_max_retry_after_is_honoured_only_up_to_the_cap(HttpStatusCode status)
    {
        await using var env = await TestEnvironment.StartAsync("delivery:\n  max_retry_after: 00:02:00\n");
        env.Receiver.FailFirst("capped", 1, status, retryAfter: TimeSpan.FromMinutes(10));
        var tenant = env.Cluster.Tenant("capped");
        var id = await tenant.Publish(WebhookEvent.Create("capped", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await env.SettleAsync("capped", requests: 1, retrying: 1);

        // The schedule alone would retry after about 5 s and the endpoint asked for 10 minutes; the cap says 2.
        env.Clock.Advance(TimeSpan.FromSeconds(119));
        await env.SettleAsync("capped", requests: 1, retrying: 1);
        env.Clock.Advance(TimeSpan.FromSeconds(1));
        await env.SettleAsync("capped", requests: 2, retrying: 0);

        var attempts = (await tenant.GetAttempts(10)).Reverse().ToArray();
        Assert.Equal([(int)status, 200], attempts.Select(a => a.StatusCode ?? 0));
        Assert.Equal(Start, attempts[0].At);
        Assert.Equal(Start + TimeSpan.FromMinutes(2), attempts[1].At);
        Assert.Equal(1, env.Receiver.SuccessesFor("capped")[id]);
    }

    [Fact]
    public async Task A_configured_idempotency_window_filters_a_duplicate_within_it_and_accepts_it_after()
    {
        await using var env = await TestEnvironment.StartAsync("idempotency:\n  window: 00:10:00\n");
        var tenant = env.Cluster.Tenant("dedup");
        var webhookEvent = WebhookEvent.Create("dedup", WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "c" }) with { Id = "evt-window-1" };

        await tenant.Publish(webhookEvent);
        await env.SettleAsync("dedup", requests: 1, retrying: 0);

        // Nine minutes on, the id is still taken: the publish is acknowledged and filtered.
        env.Clock.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("evt-window-1", await tenant.Publish(webhookEvent));
        var stats = await tenant.GetStats();
        Assert.Equal(1, stats.Filtered.GetValueOrDefault(FilterReasons.Duplicate));
        Assert.Equal(1, stats.Received - stats.Filtered.Values.Sum());

        // Past the ten-minute window (well within the default 24 h), the same id is delivered again.
        env.Clock.Advance(TimeSpan.FromMinutes(2));
        await tenant.Publish(webhookEvent);
        await env.SettleAsync("dedup", requests: 2, retrying: 0);
        stats = await Eventually.Until(() => tenant.GetStats(), s => s.Delivered == 2, "the second delivery to be counted");
        Assert.Equal(1, stats.Filtered.GetValueOrDefault(FilterReasons.Duplicate));
        Assert.Equal(2, env.Receiver.SuccessesFor("dedup")["evt-window-1"]);

        // And that delivery starts a new window.
        env.Clock.Advance(TimeSpan.FromMinutes(9));
        await tenant.Publish(webhookEvent);
        Assert.Equal(2, (await tenant.GetStats()).Filtered.GetValueOrDefault(FilterReasons.Duplicate));
        Assert.Equal(2, env.Receiver.RequestsFor("dedup").Count);
    }

    [Fact]
    public async Task A_long_retry_pending_in_memory_storage_survives_deactivation_and_is_delivered_once()
    {
        await using var env = await TestEnvironment.StartAsync(
            "storage:\n  wake_period: 00:00:01\n",
            retrySchedule: ["02:00:00"],
            configureSilo: silo => silo.Configure<GrainCollectionOptions>(options => options.DeactivationTimeout = TimeSpan.FromSeconds(2)));
        env.Receiver.FailFirst("patient", 1);
        var tenant = env.Cluster.Tenant("patient");
        var id = await tenant.Publish(WebhookEvent.Create("patient", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await env.SettleAsync("patient", requests: 1, retrying: 1);

        await env.Cluster.Cluster.DeactivateAsync(tenant);

        // No call wakes the grain: its reminder brings it back, with the retry still waiting.
        await Eventually.Until(
            () => Task.FromResult(env.Cluster.SiloLogs.Any(l => l.Message == "Tenant patient resumed 1 undelivered event(s), 1 waiting for a retry")),
            "the tenant to resume its waiting retry");
        Assert.Single(env.Receiver.RequestsFor("patient"));

        // Two hours, with the schedule's jitter of up to 20%, and a second to spare.
        env.Clock.Advance(TimeSpan.FromHours(2.4) + TimeSpan.FromSeconds(1));
        await env.SettleAsync("patient", requests: 2, retrying: 0);

        Assert.Equal(1, env.Receiver.SuccessesFor("patient")[id]);
        var stats = await Eventually.Until(() => tenant.GetStats(), s => s.Delivered == 1, "the retry's delivery to be counted");
        Assert.Equal(0, stats.Failed);
        var attempts = (await tenant.GetAttempts(10)).Reverse().ToArray();
        Assert.Equal([(1, 500), (2, 200)], attempts.Select(a => (a.Attempt, a.StatusCode ?? 0)));
        Assert.InRange(attempts[1].At - attempts[0].At, TimeSpan.FromHours(1.6), TimeSpan.FromHours(2.4) + TimeSpan.FromSeconds(1));
    }

    /// <summary>A receiver and a one-silo cluster on a test clock.</summary>
    private sealed class TestEnvironment : IAsyncDisposable
    {
        public required FakeTimeProvider Clock { get; init; }

        public required WebhookReceiver Receiver { get; init; }

        public required WebhookCluster Cluster { get; init; }

        public static async Task<TestEnvironment> StartAsync(string siloYaml, string[]? retrySchedule = null, Action<ISiloBuilder>? configureSilo = null)
        {
            var clock = new FakeTimeProvider(Start);
            var receiver = await WebhookReceiver.StartAsync();
            var tenants = new TenantsYaml();
            foreach (var tenant in new[] { "capped", "dedup", "patient" })
            {
                tenants.Tenant(tenant, receiver.EndpointFor(tenant), retrySchedule: retrySchedule);
            }

            var cluster = await WebhookCluster.StartAsync(tenants, siloYaml, clock: clock, configureSilo: configureSilo);
            return new TestEnvironment { Clock = clock, Receiver = receiver, Cluster = cluster };
        }

        /// <summary>Waits until the tenant has had <paramref name="requests"/> requests and has settled: nothing in flight.</summary>
        public async Task SettleAsync(string tenant, int requests, int retrying)
        {
            await Receiver.WaitForAsync(tenant, requests);
            await Eventually.Until(
                () => Cluster.Tenant(tenant).GetStats(),
                s => s.InFlight == 0 && s.Buffered == 0 && s.Retrying == retrying,
                $"'{tenant}' to settle with {retrying} event(s) waiting for a retry");
            Assert.Equal(requests, Receiver.RequestsFor(tenant).Count);
        }

        public async ValueTask DisposeAsync()
        {
            await Receiver.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }
}
