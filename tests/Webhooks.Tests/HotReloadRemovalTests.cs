using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// A tenant removed from <c>tenants.yaml</c> while it still has events queued: none is dropped. Each is kept as failed
/// with the reason <c>unknown_tenant</c>, counted and logged, and replays once the tenant is back.
/// </summary>
public sealed class HotReloadRemovalTests
{
    private const string SiloYaml = """
        delivery:
          timeout: 00:00:03
          max_concurrency: 1
          retry_schedule: [00:00:01]
        ingest:
          max_wait: 00:00:02
        """;

    [Fact]
    public async Task Events_queued_for_a_removed_tenant_are_kept_as_failed_counted_logged_and_replay_once_it_is_back()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("leaving");
        var cluster = await WebhookCluster.StartAsync(Tenants(receiver, withLeaving: true), SiloYaml);
        try
        {
            using var failedCounter = cluster.CollectCounter("webhooks.events.failed");
            using var droppedCounter = cluster.CollectCounter("webhooks.events.dropped");
            var tenant = cluster.Tenant("leaving");

            // The first event hangs in flight; the rest queue behind it for the tenant's only slot.
            var ids = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                ids.Add(await cluster.ClientPublisher.PublishAsync(Event("leaving")));
            }

            await receiver.WaitForAsync("leaving", 1);
            await Eventually.Until(() => tenant.GetStats(), s => s.Received == ids.Count, "every event to reach the tenant before the edit");
            await EditAsync(cluster, Tenants(receiver, withLeaving: false), settings => settings.Find("leaving") is null);

            // The hanging attempt times out; nothing waits any more, and every event is kept as failed.
            var stats = await Eventually.Until(
                () => tenant.GetStats(),
                s => s.FailedKept == ids.Count,
                "every queued event of the removed tenant to be kept as failed");
            Assert.Equal(0, stats.Buffered);
            Assert.Equal(0, stats.InFlight);
            Assert.Equal(0, stats.Retrying);
            Assert.Equal(0, stats.Dropped);
            Assert.Equal(ids.Count, stats.Failed);
            Assert.Equal(0, stats.Filtered.GetValueOrDefault(FilterReasons.UnknownTenant));

            var failed = await tenant.GetFailed();
            Assert.Equal(ids.Order(StringComparer.Ordinal), failed.Select(f => f.Event.Id).Order(StringComparer.Ordinal));
            var attempted = receiver.RequestsFor("leaving").Select(r => r.EventId).ToHashSet(StringComparer.Ordinal);
            Assert.All(failed, f =>
            {
                Assert.Equal(FilterReasons.UnknownTenant, f.Reason);

                // Only what reached the endpoint before the edit was attempted, and once: the rest never left the queue.
                Assert.Equal(attempted.Contains(f.Event.Id) ? 1 : 0, f.Attempts);
            });
            Assert.Contains(failed, f => f.Attempts == 0);

            // Counted under the reason, never as dropped.
            Assert.Equal(ids.Count, failedCounter.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], FilterReasons.UnknownTenant)).Sum(m => m.Value));
            Assert.Equal(ids.Count, failedCounter.GetMeasurementSnapshot().Sum(m => m.Value));
            Assert.Empty(droppedCounter.GetMeasurementSnapshot());

            // Logged, one warning per event, naming the tenant, the event and the reason.
            var logged = cluster.SiloLogs
                .Where(l => l.Level == LogLevel.Warning && l.Message.Contains("kept as failed", StringComparison.Ordinal) && l.Message.Contains("tenant leaving", StringComparison.Ordinal))
                .ToList();
            Assert.Equal(ids.Count, logged.Count);
            Assert.All(logged, l => Assert.Contains(FilterReasons.UnknownTenant, l.Message, StringComparison.Ordinal));
            Assert.Equal(ids.Order(StringComparer.Ordinal), ids.Where(id => logged.Any(l => l.Message.Contains(id, StringComparison.Ordinal))).Order(StringComparer.Ordinal));

            // The tenant comes back with a working endpoint; a replay delivers every event once.
            receiver.RespondWith("leaving", System.Net.HttpStatusCode.OK);
            await EditAsync(cluster, Tenants(receiver, withLeaving: true), settings => settings.Find("leaving") is not null);
            var replay = await tenant.ReplaySince(DateTimeOffset.MinValue);
            Assert.Equal(ids.Count, replay.Replayed);
            Assert.Equal(0, replay.Remaining);

            var delivered = await receiver.WaitUntilAsync(
                () => receiver.SuccessesFor("leaving"),
                successes => successes.Count == ids.Count,
                "every replayed event delivered");
            Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Keys.Order(StringComparer.Ordinal));
            Assert.All(delivered.Values, count => Assert.Equal(1, count));
            Assert.Empty(await tenant.GetFailed());
        }
        finally
        {
            await receiver.DisposeAsync();
            await cluster.DisposeAsync();
        }
    }

    private static TenantsYaml Tenants(WebhookReceiver receiver, bool withLeaving)
    {
        var tenants = new TenantsYaml().Tenant("staying", receiver.EndpointFor("staying"));
        return withLeaving ? tenants.Tenant("leaving", receiver.EndpointFor("leaving")) : tenants;
    }

    private static WebhookEvent Event(string tenant) => WebhookEvent.Create(tenant, WebhookEventNames.PriceUpdated, new { price_id = "p" });

    private static async Task EditAsync(WebhookCluster cluster, TenantsYaml tenants, Func<WebhookSettings, bool> applied)
    {
        await File.WriteAllTextAsync(cluster.TenantsPath, tenants.ToString());
        await Eventually.Until(
            () => Task.FromResult(cluster.Cluster.Silos.All(silo => applied(silo.ServiceProvider.GetRequiredService<WebhookSettingsMonitor>().Current))),
            "every silo to apply the edit",
            TimeSpan.FromSeconds(15));
    }
}
