namespace Webhooks.Tests;

/// <summary>When a tenant's buffer is full, publishers get a typed overflow error; nothing accepted is lost.</summary>
public sealed class BackpressureTests : IAsyncLifetime
{
    private const string SiloYaml = """
        delivery:
          timeout: 00:01:00
          max_concurrency: 1
          buffer_size: 4
        """;

    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.Hang("stuck");
        _receiver.Hang("stuck-direct");
        var tenants = new TenantsYaml()
            .Tenant("stuck", _receiver.EndpointFor("stuck"))
            .Tenant("stuck-direct", _receiver.EndpointFor("stuck-direct"));
        _cluster = await WebhookCluster.StartAsync(tenants, SiloYaml, configureClient: options => options.MaxWait = TimeSpan.FromMilliseconds(300));
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task The_gateway_refuses_with_a_typed_error_once_the_buffer_is_full()
    {
        var accepted = new List<string>();
        WebhookOverflowException? overflow = null;
        for (var i = 0; i < 20 && overflow is null; i++)
        {
            try
            {
                accepted.Add(await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("stuck", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" })));
            }
            catch (WebhookOverflowException ex)
            {
                overflow = ex;
            }
        }

        // One delivery hangs in flight, four events wait: the fifth waiting event is refused.
        Assert.NotNull(overflow);
        Assert.Equal(OverflowReason.TenantBufferFull, overflow.Reason);
        Assert.Equal("stuck", overflow.TenantId);
        Assert.True(overflow.RetryAfter > TimeSpan.Zero);
        Assert.Equal(5, accepted.Count);

        var stats = await Eventually.Until(() => _cluster.Tenant("stuck").GetStats(), s => s.Received == 5, "the five accepted events to arrive");
        Assert.Equal(1, stats.InFlight);
        Assert.Equal(4, stats.Buffered);
        await _receiver.WaitUntilAsync(() => _receiver.OpenRequests("stuck"), open => open == 1, "the delivery in flight to hang at the receiver");

        // The client's gateway counts the refusal on its own meter.
        using var clientRefusals = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            _cluster.Client.ServiceProvider.GetRequiredService<IMeterFactory>(), Observability.WebhookMetrics.MeterName, "webhooks.events.refused");
        await Assert.ThrowsAsync<WebhookOverflowException>(() => _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("stuck", WebhookEventNames.PriceUpdated, new { price_id = "again" })));
        Assert.Contains(clientRefusals.GetMeasurementSnapshot(), m => Equals(m.Tags["reason"], "tenant_buffer_full"));
    }

    [Fact]
    public async Task A_direct_publish_is_refused_with_the_same_error()
    {
        var grain = _cluster.Tenant("stuck-direct");
        for (var i = 0; i < 5; i++)
        {
            await grain.Publish(WebhookEvent.Create("stuck-direct", WebhookEventNames.PriceUpdated, new { price_id = $"p{i}" }));
        }

        var overflow = await Assert.ThrowsAsync<WebhookOverflowException>(() => grain.Publish(WebhookEvent.Create("stuck-direct", WebhookEventNames.PriceUpdated, new { price_id = "p5" })));

        Assert.Equal(OverflowReason.TenantBufferFull, overflow.Reason);
        var stats = await grain.GetStats();
        Assert.Equal(5, stats.Received);
        Assert.Equal(1, stats.Refused);
    }
}
