namespace Webhooks.Tests;

/// <summary>Failed deliveries are logged with tenant, event, status and reason, and counted; slow tenants delay no one.</summary>
[Collection(EngineCollection.Name)]
public sealed class FailureTests(EngineFixture fixture)
{
    private WebhookCluster Cluster => fixture.Cluster;

    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task A_non_2xx_answer_is_a_logged_and_counted_failure()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("failing", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        var stats = await Eventually.Until(() => Cluster.Tenant("failing").GetStats(), s => s.Failed == 1, "one failed delivery");

        Assert.Equal(0, stats.Delivered);
        var log = Assert.Single(Cluster.SiloLogs, l => l.Level == LogLevel.Warning && l.Message.Contains(id, StringComparison.Ordinal));
        Assert.Contains("failing", log.Message, StringComparison.Ordinal);
        Assert.Contains("500", log.Message, StringComparison.Ordinal);
        Assert.Contains("http_error", log.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_redirect_is_a_failure_and_is_not_followed()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("redirecting", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        await Eventually.Until(async () => (await Cluster.Tenant("redirecting").GetStats()).Failed == 1, "one failed delivery");

        Assert.Single(Receiver.RequestsFor("redirecting"));
        Assert.Contains(Cluster.SiloLogs, l => l.Level == LogLevel.Warning && l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("302", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refused_connection_is_a_logged_and_counted_failure()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("refused", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        await Eventually.Until(async () => (await Cluster.Tenant("refused").GetStats()).Failed == 1, "one failed delivery");

        Assert.Contains(Cluster.SiloLogs, l => l.Level == LogLevel.Warning
            && l.Message.Contains(id, StringComparison.Ordinal)
            && l.Message.Contains("connection_error", StringComparison.Ordinal)
            && l.Message.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hanging_endpoint_delays_no_other_tenant_then_times_out()
    {
        // More than max_concurrency (8) events, so the hanging tenant also has a backlog in its buffer.
        var hung = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            hung.Add(await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("hang", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" })));
        }

        await Receiver.WaitUntilAsync(() => Receiver.OpenRequests("hang"), open => open == 8, "8 hanging requests");

        var healthy = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            healthy.Add(await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("healthy", WebhookEventNames.UsageRecorded, new { customer_id = $"c{i}" })));
        }

        var delivered = await Receiver.WaitForAsync("healthy", 50);

        // Every healthy delivery arrived while the hanging tenant's requests were still open.
        Assert.Equal(8, Receiver.OpenRequests("hang"));
        Assert.Equal(healthy.Order(StringComparer.Ordinal), delivered.Select(r => r.EventId).Order(StringComparer.Ordinal));
        var hangStats = await Cluster.Tenant("hang").GetStats();
        Assert.Equal(8, hangStats.InFlight);
        Assert.Equal(4, hangStats.Buffered);

        // Then the timeout (5 s) ends the hung deliveries one batch at a time, each a logged timeout.
        var final = await Eventually.Until(() => Cluster.Tenant("hang").GetStats(), s => s.Failed == 12, "all 12 hung deliveries to time out");
        Assert.Equal(0, final.Delivered);
        Assert.All(hung, id => Assert.Contains(Cluster.SiloLogs, l => l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("timeout", StringComparison.Ordinal)));
    }
}
