using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

/// <summary>
/// The sender against a real receiver. Deliveries that end in time hand their timeout on to later ones: a timeout that
/// was reused must still fire, and one that fired must not cancel a later delivery.
/// </summary>
public sealed class WebhookSenderTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private WebhookReceiver _receiver = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Timeouts_reused_by_later_deliveries_still_end_hung_requests_and_never_cancel_answered_ones()
    {
        _receiver.Hang("slow");
        var sender = new WebhookSender(_services.GetRequiredService<IHttpClientFactory>(), Options.Create(new DeliveryOptions { Timeout = Timeout }), TimeProvider.System);

        for (var round = 1; round <= 3; round++)
        {
            // Each answered delivery leaves its timeout for the next one; the hung one gets such a reused timeout.
            for (var i = 0; i < 3; i++)
            {
                var answered = await SendAsync(sender, "fast", $"fast-{round}-{i}");
                Assert.Equal(DeliveryOutcomes.Delivered, answered.Outcome);
                Assert.Equal(200, answered.StatusCode);
            }

            var hung = await SendAsync(sender, "slow", $"slow-{round}");
            Assert.Equal(DeliveryOutcomes.Timeout, hung.Outcome);
            Assert.Null(hung.StatusCode);
            Assert.Equal($"no response within {Timeout}", hung.Error);
            // Timers may fire a clock tick before the stopwatch reads the full timeout.
            Assert.True(hung.Duration >= Timeout * 0.9, $"timed out after {hung.Duration}");
        }

        // Every answered request reached the receiver, each once.
        var received = await _receiver.WaitForAsync("fast", 9);
        Assert.Equal(
            [.. Enumerable.Range(1, 3).SelectMany(round => Enumerable.Range(0, 3).Select(i => $"fast-{round}-{i}"))],
            received.Select(r => r.EventId).Order(StringComparer.Ordinal).ToArray());
    }

    private Task<DeliveryResult> SendAsync(WebhookSender sender, string tenant, string eventId)
    {
        var endpoint = TenantEndpoint.Compile(tenant, new TenantWebhookOptions { Endpoint = _receiver.EndpointFor(tenant) });
        var webhookEvent = new WebhookEvent
        {
            Id = eventId,
            TenantId = tenant,
            EventName = WebhookEventNames.PriceUpdated,
            Timestamp = DateTimeOffset.UnixEpoch,
            Payload = """{"price_id":"p1"}""",
        };

        // A timeout that never fired would leave this waiting: the deadline fails the test instead.
        return sender.SendAsync(endpoint, webhookEvent, webhookEvent.Payload, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
