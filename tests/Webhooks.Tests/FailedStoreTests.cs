using System.Net;
using Microsoft.Extensions.Time.Testing;
using Webhooks.Observability;

namespace Webhooks.Tests;

/// <summary>
/// The failed events a tenant keeps are bounded in number (<c>failed.max_per_tenant</c>) and in age
/// (<c>failed.retention</c>). An event that leaves them for either reason is counted and logged, never lost silently.
/// </summary>
public sealed class FailedStoreTests
{
    [Fact]
    public async Task Past_max_per_tenant_the_oldest_failed_events_are_dropped_counted_and_logged()
    {
        await using var env = await TestEnvironment.StartAsync("failed:\n  max_per_tenant: 3\n");
        using var dropped = env.Cluster.CollectCounter("webhooks.events.dropped");
        var tenant = env.Cluster.Tenant(TestEnvironment.TenantId);

        // Five events fail one after the other, so that their order in the failed events is known.
        for (var i = 1; i <= 5; i++)
        {
            await env.FailAsync($"evt-cap-{i}", failedSoFar: i);
        }

        var failed = await tenant.GetFailed();
        Assert.Equal(["evt-cap-3", "evt-cap-4", "evt-cap-5"], failed.Select(f => f.Event.Id));
        Assert.All(failed, f =>
        {
            Assert.Equal(FailureReasons.RetriesExhausted, f.Reason);
            Assert.Equal(2, f.Attempts);
            Assert.Equal(500, f.LastStatusCode);
            Assert.Equal("HTTP 500 Internal Server Error", f.LastError);
        });

        var stats = await tenant.GetStats();
        Assert.Equal(5, stats.Failed);
        Assert.Equal(3, stats.FailedKept);
        Assert.Equal(2, stats.Dropped);

        var measurements = dropped.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.All(measurements, m =>
        {
            Assert.Equal(1, m.Value);
            Assert.Equal(DropReasons.FailedStoreFull, m.Tags["reason"]);
        });

        var logs = env.Cluster.SiloLogs.Where(l => l.Message.Contains("keeps too many failed events", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [
                "Tenant archive keeps too many failed events: dropped the 1 oldest (evt-cap-1)",
                "Tenant archive keeps too many failed events: dropped the 1 oldest (evt-cap-2)",
            ],
            logs.Select(l => l.Message));
        Assert.All(logs, l => Assert.Equal(LogLevel.Error, l.Level));
    }

    [Fact]
    public async Task A_failed_event_older_than_the_retention_expires_counted_and_logged()
    {
        await using var env = await TestEnvironment.StartAsync("failed:\n  retention: 01:00:00\n");
        using var expired = env.Cluster.CollectCounter("webhooks.events.expired");
        var tenant = env.Cluster.Tenant(TestEnvironment.TenantId);

        // The first event fails 2 s after the start, the second 30 minutes later.
        await env.FailAsync("evt-old", failedSoFar: 1);
        env.Clock.Advance(TimeSpan.FromMinutes(30));
        await env.FailAsync("evt-new", failedSoFar: 2);
        Assert.Equal(["evt-old", "evt-new"], (await tenant.GetFailed()).Select(f => f.Event.Id));

        // 61 minutes after the first failure and 31 after the second: only the first is past the retention. The
        // active tenant expires it on the engine's clock, when it is due, with no call to the grain.
        env.Clock.Advance(TimeSpan.FromMinutes(31));
        await Eventually.Until(async () => expired.GetMeasurementSnapshot().Sum(m => m.Value) == 1, "the oldest failed event to expire");

        Assert.Equal(["evt-new"], (await tenant.GetFailed()).Select(f => f.Event.Id));
        Assert.Equal(1, expired.GetMeasurementSnapshot().Sum(m => m.Value));
        var log = Assert.Single(env.Cluster.SiloLogs, l => l.Message.Contains("failed event(s) expired", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, log.Level);
        Assert.Equal("Tenant archive: 1 failed event(s) expired after 01:00:00", log.Message);

        // Thirty minutes on, the second is past it too; a tenant also expires failed events when it activates.
        await env.Cluster.Cluster.DeactivateAsync(tenant);
        env.Clock.Advance(TimeSpan.FromMinutes(30));

        Assert.Empty(await tenant.GetFailed());
        Assert.Equal(0, (await tenant.GetStats()).FailedKept);
        Assert.Equal([1L, 1L], expired.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal(2, env.Cluster.SiloLogs.Count(l => l.Message == "Tenant archive: 1 failed event(s) expired after 01:00:00"));
    }

    [Fact]
    public async Task A_retention_too_long_to_end_keeps_failed_events_and_the_tenant_working()
    {
        await using var env = await TestEnvironment.StartAsync("failed:\n  retention: 10675199.00:00:00\n");
        var tenant = env.Cluster.Tenant(TestEnvironment.TenantId);

        // Each failure arms the tenant's timer for what is due next, which must not overflow the clock.
        await env.FailAsync("evt-kept", failedSoFar: 1);
        await env.FailAsync("evt-later", failedSoFar: 2);

        Assert.Equal(["evt-kept", "evt-later"], (await tenant.GetFailed()).Select(f => f.Event.Id));
    }

    /// <summary>A receiver that answers 500 and a one-silo cluster on a test clock; each event gets one retry, 1 s on.</summary>
    private sealed class TestEnvironment : IAsyncDisposable
    {
        public const string TenantId = "archive";

        public required FakeTimeProvider Clock { get; init; }

        public required WebhookReceiver Receiver { get; init; }

        public required WebhookCluster Cluster { get; init; }

        public static async Task<TestEnvironment> StartAsync(string siloYaml)
        {
            var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.Zero));
            var receiver = await WebhookReceiver.StartAsync();
            receiver.RespondWith(TenantId, HttpStatusCode.InternalServerError);
            var tenants = new TenantsYaml().Tenant(TenantId, receiver.EndpointFor(TenantId), retrySchedule: ["00:00:01"]);
            var cluster = await WebhookCluster.StartAsync(tenants, "delivery:\n  max_concurrency: 4\n" + siloYaml, clock: clock);
            return new TestEnvironment { Clock = clock, Receiver = receiver, Cluster = cluster };
        }

        /// <summary>Publishes an event and runs it through both its attempts, until it is kept as failed.</summary>
        public async Task FailAsync(string eventId, int failedSoFar)
        {
            var tenant = Cluster.Tenant(TenantId);
            await tenant.Publish(WebhookEvent.Create(TenantId, WebhookEventNames.PriceUpdated, new { price_id = eventId }) with { Id = eventId });
            await Receiver.WaitForAsync(TenantId, (2 * failedSoFar) - 1);
            await Eventually.Until(() => tenant.GetStats(), s => s.Retrying == 1 && s.InFlight == 0, $"'{eventId}' to wait for its retry");

            // The retry is due 0.8 to 1.2 s after the first attempt.
            Clock.Advance(TimeSpan.FromSeconds(2));
            await Receiver.WaitForAsync(TenantId, 2 * failedSoFar);
            await Eventually.Until(() => tenant.GetStats(), s => s.Failed == failedSoFar && s.Retrying == 0 && s.InFlight == 0, $"'{eventId}' to be kept as failed");
        }

        public async ValueTask DisposeAsync()
        {
            await Receiver.DisposeAsync();
            await Cluster.DisposeAsync();
        }
    }
}
