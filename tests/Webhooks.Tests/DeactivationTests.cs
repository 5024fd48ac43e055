using Orleans.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// A tenant grain that is deactivated keeps its undelivered events in storage and resumes them when it comes back.
/// With memory storage, what is pending when the silo stops is counted and logged as lost, never lost silently.
/// </summary>
public sealed class DeactivationTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.AnswerAfter("slow", TimeSpan.FromMilliseconds(200));
        _receiver.Hang("hung");
        var tenants = new TenantsYaml()
            .Tenant("slow", _receiver.EndpointFor("slow"))
            .Tenant("hung", _receiver.EndpointFor("hung"));
        _cluster = await WebhookCluster.StartAsync(
            tenants,
            """
            delivery:
              timeout: 00:01:00
              max_concurrency: 1
            storage:
              wake_period: 00:00:01
            """,
            configureSilo: silo => silo.Configure<GrainCollectionOptions>(options => options.DeactivationTimeout = TimeSpan.FromSeconds(2)));
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_deactivated_grain_resumes_its_backlog_from_storage()
    {
        var grain = _cluster.Tenant("slow");
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await grain.Publish(WebhookEvent.Create("slow", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" })));
        }

        Assert.Equal(4, (await grain.GetStats()).Buffered);
        await _cluster.Cluster.DeactivateAsync(grain);

        // No call wakes the grain: its reminder does, and it carries on where it stopped.
        var delivered = await _receiver.WaitForAsync("slow", 5);
        Assert.Equal(ids, delivered.Select(r => r.EventId));
        Assert.Contains(_cluster.SiloLogs, l => l.Message.Contains("resumed", StringComparison.Ordinal) && l.Message.Contains("slow", StringComparison.Ordinal));
        await Eventually.Until(async () => (await grain.GetStats()).Delivered == 4, "the resumed events to be delivered");
    }

    [Fact]
    public async Task An_event_in_flight_when_its_grain_deactivates_is_sent_again_when_it_resumes()
    {
        var grain = _cluster.Tenant("hung");
        var id = await grain.Publish(WebhookEvent.Create("hung", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await _receiver.WaitUntilAsync(() => _receiver.OpenRequests("hung"), open => open == 1, "the request to reach the receiver");

        // The deactivation stops waiting for the hung request after its timeout, and stores the event as undelivered.
        await _cluster.Cluster.DeactivateAsync(grain);

        // No answer came back to the first attempt, so the resumed grain sends the event again.
        var requests = await _receiver.WaitForAsync("hung", 2);
        Assert.Equal([id, id], requests.Select(r => r.EventId));
    }

    [Fact]
    public async Task Events_pending_in_memory_storage_at_shutdown_are_counted_and_logged_as_lost()
    {
        using var dropped = _cluster.CollectCounter("webhooks.events.dropped");
        var grain = _cluster.Tenant("hung");
        for (var i = 0; i < 3; i++)
        {
            await grain.Publish(WebhookEvent.Create("hung", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        await _cluster.Cluster.StopAllSilosAsync();

        Assert.Equal(3, dropped.GetMeasurementSnapshot().Sum(m => m.Value));
        var log = Assert.Single(_cluster.SiloLogs, l => l.Level == LogLevel.Error && l.Message.Contains("lost", StringComparison.Ordinal));
        Assert.Contains("hung", log.Message, StringComparison.Ordinal);
        Assert.Contains("3 undelivered events (1 in flight)", log.Message, StringComparison.Ordinal);
    }
}
