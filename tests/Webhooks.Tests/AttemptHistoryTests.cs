using Microsoft.Extensions.Time.Testing;

namespace Webhooks.Tests;

/// <summary>
/// Each tenant's attempt history: bounded to the newest <c>delivery.history_size</c> attempts, newest first, and each
/// failed attempt says exactly why it failed.
/// </summary>
public sealed class AttemptHistoryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;
    private int _refusedPort;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.Hang("hung");

        // Nothing listens on this port: connecting to it is refused.
        _refusedPort = FreePorts.Next();
        var tenants = new TenantsYaml()
            .Tenant("kept", _receiver.EndpointFor("kept"))
            .Tenant("moved", _receiver.EndpointFor("moved"))
            .Tenant("hung", _receiver.EndpointFor("hung"))
            .Tenant("refused", $"http://127.0.0.1:{_refusedPort}/hooks/refused");
        _cluster = await WebhookCluster.StartAsync(
            tenants,
            """
            delivery:
              timeout: 00:00:05
              max_concurrency: 4
              history_size: 8
            """,
            clock: _clock);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task The_history_keeps_only_the_newest_history_size_attempts_newest_first()
    {
        var tenant = _cluster.Tenant("kept");
        // Eleven: each past the eighth takes the place of the oldest.
        for (var i = 1; i <= 11; i++)
        {
            await tenant.Publish(WebhookEvent.Create("kept", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }) with { Id = $"evt-h-{i}" });
            await _receiver.WaitForAsync("kept", i);
            await Eventually.Until(async () => (await tenant.GetStats()).Delivered == i, $"event {i} to be delivered");
        }

        var attempts = await tenant.GetAttempts(100);
        Assert.Equal(Enumerable.Range(4, 8).Reverse().Select(i => $"evt-h-{i}"), attempts.Select(a => a.EventId));
        Assert.All(attempts, a =>
        {
            Assert.Equal(1, a.Attempt);
            Assert.Equal(200, a.StatusCode);
            Assert.Equal("delivered", a.Outcome);
            Assert.Null(a.Error);
            Assert.Equal(WebhookEventNames.PriceUpdated, a.EventName);
        });

        // A smaller limit gives the newest ones.
        Assert.Equal(["evt-h-11", "evt-h-10"], (await tenant.GetAttempts(2)).Select(a => a.EventId));
        Assert.Empty(await tenant.GetAttempts(0));
    }

    [Fact]
    public async Task The_history_is_stored_when_the_grain_deactivates_and_read_back_when_it_resumes()
    {
        var tenant = _cluster.Tenant("moved");

        // An id the engine assigns (a GUID), a GUID in capitals, and one of the publisher's own.
        var ids = new List<string> { await tenant.Publish(WebhookEvent.Create("moved", WebhookEventNames.PriceUpdated, new { price_id = "p" })) };
        foreach (var id in new[] { "3F2504E0-4F89-11D3-9A0C-0305E82C3301", "evt-moved" })
        {
            ids.Add(await tenant.Publish(WebhookEvent.Create("moved", WebhookEventNames.PriceDeleted, new { price_id = "p" }) with { Id = id }));
        }

        await _receiver.WaitForAsync("moved", 3);
        var before = await Eventually.Until(() => tenant.GetAttempts(10), a => a.Length == 3, "the three attempts to be recorded");
        // Deliveries run side by side, so attempts are recorded in the order they end.
        Assert.Equal(ids.Order(StringComparer.Ordinal), before.Select(a => a.EventId).Order(StringComparer.Ordinal));

        await _cluster.Cluster.DeactivateAsync(tenant);

        Assert.Equal(before, await tenant.GetAttempts(10));
    }

    [Fact]
    public async Task A_timed_out_attempt_records_the_timeout_as_its_error()
    {
        var tenant = _cluster.Tenant("hung");
        await tenant.Publish(WebhookEvent.Create("hung", WebhookEventNames.PriceUpdated, new { price_id = "p" }) with { Id = "evt-timeout" });
        await _receiver.WaitUntilAsync(() => _receiver.OpenRequests("hung"), open => open == 1, "the request to reach the receiver");

        // delivery.timeout runs on the engine's clock.
        _clock.Advance(TimeSpan.FromSeconds(5));
        var attempts = await Eventually.Until(() => tenant.GetAttempts(10), a => a.Length == 1, "the timed-out attempt to be recorded");

        var attempt = attempts[0];
        Assert.Equal("evt-timeout", attempt.EventId);
        Assert.Equal(1, attempt.Attempt);
        Assert.Equal(Start, attempt.At);
        Assert.Null(attempt.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), attempt.Duration);
        Assert.Equal("timeout", attempt.Outcome);
        Assert.Equal("no response within 00:00:05", attempt.Error);
        Assert.Null(attempt.ResponseExcerpt);
        Assert.Equal(1, (await tenant.GetStats()).Retrying);
    }

    [Fact]
    public async Task A_refused_connection_records_the_connection_error()
    {
        var tenant = _cluster.Tenant("refused");
        await tenant.Publish(WebhookEvent.Create("refused", WebhookEventNames.PriceUpdated, new { price_id = "p" }) with { Id = "evt-refused" });

        var attempts = await Eventually.Until(() => tenant.GetAttempts(10), a => a.Length == 1, "the failed attempt to be recorded");

        var attempt = attempts[0];
        Assert.Equal("evt-refused", attempt.EventId);
        Assert.Equal(1, attempt.Attempt);
        Assert.Null(attempt.StatusCode);
        Assert.Equal("connection_error", attempt.Outcome);
        // The kind of failure, then each exception's message, innermost last (the socket's text, as on Linux).
        Assert.Equal($"ConnectionError: Connection refused (127.0.0.1:{_refusedPort}): Connection refused", attempt.Error);
        Assert.Null(attempt.ResponseExcerpt);
    }
}
