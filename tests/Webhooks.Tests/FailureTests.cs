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

        var stats = await Eventually.Until(() => Cluster.Tenant("failing").GetStats(), s => s.Failed == 1, "the event to fail its two attempts");

        Assert.Equal(0, stats.Delivered);
        Assert.Equal(1, stats.Retries);
        Assert.Equal(2, Receiver.RequestsFor("failing").Count);
        var attempts = Cluster.SiloLogs.Where(l => l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("attempt", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, attempts.Count(l => l.Message.Contains("failed on attempt", StringComparison.Ordinal)));
        Assert.All(attempts.Where(l => l.Message.Contains("failed on attempt", StringComparison.Ordinal)), log =>
        {
            Assert.Contains("failing", log.Message, StringComparison.Ordinal);
            Assert.Contains("status 500", log.Message, StringComparison.Ordinal);
            Assert.Contains("http_error", log.Message, StringComparison.Ordinal);
        });
        Assert.Contains(attempts, l => l.Message.Contains("kept as failed after 2 attempt(s): retries_exhausted", StringComparison.Ordinal));

        // The first failure of the run is a warning; the second, in a row, is at Debug.
        Assert.Equal([LogLevel.Warning, LogLevel.Debug], attempts.Where(l => l.Message.Contains("failed on attempt", StringComparison.Ordinal)).Select(l => l.Level));
    }

    [Fact]
    public async Task A_410_whose_body_stalls_past_the_timeout_still_disables_the_endpoint()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("stalled-gone", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        // The status comes at once; reading the error's excerpt runs into the delivery timeout.
        var status = await Eventually.Until(() => Cluster.Tenant("stalled-gone").GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled");

        Assert.Contains("410", status.DisabledReason, StringComparison.Ordinal);
        var failed = Assert.Single(await Cluster.Tenant("stalled-gone").GetFailed());
        Assert.Equal(id, failed.Event.Id);
        Assert.Equal(FailureReasons.EndpointGone, failed.Reason);
        Assert.Equal(410, failed.LastStatusCode);
        Assert.Single(Receiver.RequestsFor("stalled-gone"));
    }

    [Fact]
    public async Task A_redirect_is_a_failure_and_is_not_followed()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("redirecting", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        await Eventually.Until(async () => (await Cluster.Tenant("redirecting").GetStats()).Failed == 1, "the event to fail its two attempts");

        // Each answer was a 302 with a Location on the same receiver; nothing went there.
        var requests = Receiver.RequestsFor("redirecting");
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal(302, r.AnsweredWith));
        Assert.Empty(Receiver.RequestsFor("redirect-target"));
        Assert.Contains(Cluster.SiloLogs, l => l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("302", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_attempt_keeps_the_start_of_the_response_body_capped_at_the_excerpt_size()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("verbose", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        await Eventually.Until(async () => (await Cluster.Tenant("verbose").GetStats()).Failed == 1, "the event to fail its two attempts");

        var attempts = await Cluster.Tenant("verbose").GetAttempts(10);
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, attempt =>
        {
            Assert.Equal(id, attempt.EventId);
            Assert.Equal(500, attempt.StatusCode);
            Assert.Equal(EngineFixture.VerboseBody[..512], attempt.ResponseExcerpt);
        });
        var failed = Assert.Single(await Cluster.Tenant("verbose").GetFailed());
        Assert.Equal(id, failed.Event.Id);
    }

    [Fact]
    public async Task A_refused_connection_is_a_logged_and_counted_failure()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("refused", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        await Eventually.Until(async () => (await Cluster.Tenant("refused").GetStats()).Failed == 1, "the event to fail its two attempts");

        Assert.Contains(Cluster.SiloLogs, l => l.Level == LogLevel.Warning
            && l.Message.Contains(id, StringComparison.Ordinal)
            && l.Message.Contains("connection_error", StringComparison.Ordinal)
            && l.Message.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hanging_endpoint_delays_no_other_tenant_then_times_out()
    {
        // A tenant starts with 4 deliveries in flight (it earns more with each answer); the rest wait in its buffer.
        var hung = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            hung.Add(await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("hang", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" })));
        }

        await Receiver.WaitUntilAsync(() => Receiver.OpenRequests("hang"), open => open == 4, "4 hanging requests");

        var healthy = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            healthy.Add(await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("healthy", WebhookEventNames.UsageRecorded, new { customer_id = $"c{i}" })));
        }

        var delivered = await Receiver.WaitForAsync("healthy", 50);

        // Every healthy delivery arrived while the hanging tenant's requests were still open.
        Assert.Equal(4, Receiver.OpenRequests("hang"));
        Assert.Equal(healthy.Order(StringComparer.Ordinal), delivered.Select(r => r.EventId).Order(StringComparer.Ordinal));
        var hangStats = await Cluster.Tenant("hang").GetStats();
        Assert.Equal(4, hangStats.InFlight);
        Assert.Equal(8, hangStats.Buffered);

        // Then the timeout (5 s) ends the hung deliveries, each a logged timeout scheduled for its retry; the tenant
        // falls back to one delivery in flight.
        var final = await Eventually.Until(() => Cluster.Tenant("hang").GetStats(), s => s.Retries >= 4, "the first 4 hung deliveries to time out");
        Assert.Equal(0, final.Delivered);
        Assert.Equal(1, (await Eventually.Until(() => Cluster.Tenant("hang").GetStats(), s => s.InFlight == 1, "one delivery in flight after the timeouts")).InFlight);
        var timedOut = hung.Where(id => Cluster.SiloLogs.Any(l => l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("timeout", StringComparison.Ordinal))).ToList();
        Assert.True(timedOut.Count >= 4, $"{timedOut.Count} timeouts logged");
    }
}
