using System.Collections.Concurrent;
using Xunit.Abstractions;

namespace Webhooks.Tests;

/// <summary>A burst larger than a memory-stream queue (16384 events) to one tenant ends delivered or explicitly refused.</summary>
public sealed class BurstTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int BurstSize = 20_000;
    private const int Concurrency = 256;

    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("bursty", _receiver.EndpointFor("bursty")),
            """
            delivery:
              timeout: 00:00:30
              max_concurrency: 32
              buffer_size: 1024
            """);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Every_event_of_a_burst_is_delivered_once_or_refused_and_the_counts_add_up()
    {
        var accepted = new ConcurrentBag<string>();
        var refused = 0;
        await Parallel.ForAsync(0, BurstSize, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, cancellationToken) =>
        {
            try
            {
                accepted.Add(await _cluster.ClientPublisher.PublishAsync(
                    WebhookEvent.Create("bursty", WebhookEventNames.UsageRecorded, new { customer_id = "cus_1", sequence = i }), cancellationToken));
            }
            catch (WebhookOverflowException)
            {
                Interlocked.Increment(ref refused);
            }
        });

        output.WriteLine($"accepted {accepted.Count}, refused {refused}");
        Assert.Equal(BurstSize, accepted.Count + refused);
        var delivered = await _receiver.WaitForAsync("bursty", accepted.Count, TimeSpan.FromMinutes(3));
        var deliveredIds = delivered.Select(r => r.EventId).ToList();
        Assert.Equal(deliveredIds.Count, deliveredIds.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(accepted.Order(StringComparer.Ordinal), deliveredIds.Order(StringComparer.Ordinal));

        var stats = await Eventually.Until(() => _cluster.Tenant("bursty").GetStats(), s => s.Delivered == accepted.Count, "every accepted event to be counted as delivered");
        Assert.Equal(accepted.Count, stats.Received);
        Assert.Equal(0, stats.Failed + stats.Dropped + stats.FilteredTotal + stats.Buffered + stats.InFlight);
    }
}
