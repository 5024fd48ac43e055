using Orleans.Configuration;

namespace Webhooks.Tests;

/// <summary>The memory-stream queue's own bound (16384 events) reaches the publisher as a typed overflow error.</summary>
public sealed class StreamQueueTests : IAsyncLifetime
{
    private const int QueueCapacity = 16_384;

    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("flood", "http://127.0.0.1:9/hooks/flood"),
            """
            delivery:
              buffer_size: 100000
            """,
            configureSilo: silo => silo.Services.Configure<StreamPullingAgentOptions>(
                WebhookStreams.ProviderName,

                // The pulling agent never reads, so the queue fills as if the silo could not keep up.
                options => options.GetQueueMsgsTimerPeriod = TimeSpan.FromDays(1)),
            configureClient: options => options.MaxWait = TimeSpan.FromMilliseconds(200));
    }

    public Task DisposeAsync() => _cluster.DisposeAsync().AsTask();

    [Fact]
    public async Task A_full_stream_queue_refuses_with_a_typed_error_and_a_retry_after()
    {
        var publisher = _cluster.SiloPublisher();
        await Parallel.ForAsync(0, QueueCapacity, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, cancellationToken) =>
            await publisher.PublishAsync(WebhookEvent.Create("flood", WebhookEventNames.UsageRecorded, new { customer_id = "c", sequence = i }), cancellationToken));

        var overflow = await Assert.ThrowsAsync<WebhookOverflowException>(() =>
            publisher.PublishAsync(WebhookEvent.Create("flood", WebhookEventNames.UsageRecorded, new { customer_id = "c", sequence = QueueCapacity })));

        Assert.Equal(OverflowReason.StreamQueueFull, overflow.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), overflow.RetryAfter);
        Assert.Contains("16384", overflow.InnerException?.Message ?? overflow.Message, StringComparison.Ordinal);
    }
}
