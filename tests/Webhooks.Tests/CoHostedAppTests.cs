using System.Text.Json;
using System.Text.Json.Nodes;
using Webhooks.Configuration;
using Webhooks.Hosting;
using Webhooks.Payloads;

namespace Webhooks.Tests;

/// <summary>A host application that runs the silo itself, as the README shows, with a payload builder of its own.</summary>
public sealed class CoHostedAppTests : IAsyncLifetime
{
    private readonly TempDirectory _files = new();
    private WebhookReceiver _receiver = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        var tenantsPath = _files.Write("tenants.yaml", new TenantsYaml().Tenant("acme", _receiver.EndpointFor("acme")).ToString());

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create<string, string?>("security:allowed_networks:0", "127.0.0.0/8")]);
        builder.Configuration.AddWebhooksYamlFile(tenantsPath);
        builder.Services.AddWebhookPayloadBuilder<PriceWithCurrencyBuilder>();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePorts.Next(), FreePorts.Next())
            .AddWebhooks(builder.Configuration));
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _host.StopAsync();
        _host.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task The_host_publishes_through_the_injected_gateway()
    {
        var publisher = _host.Services.GetRequiredService<IWebhookPublisher>();

        var id = await publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.UsageRecorded, new { customer_id = "cus_1" }));

        Assert.Equal(id, Assert.Single(await _receiver.WaitForAsync("acme", 1)).EventId);
    }

    [Fact]
    public async Task The_host_publishes_through_the_tenant_grain()
    {
        var grains = _host.Services.GetRequiredService<IGrainFactory>();

        var id = await grains.GetGrain<ITenantWebhookGrain>("acme").Publish(
            WebhookEvent.Create("acme", WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "cus_1" }));

        await _receiver.WaitUntilAsync(() => _receiver.RequestsFor("acme"), r => r.Any(x => x.EventId == id), $"event {id}");
    }

    [Fact]
    public async Task A_builder_registered_by_the_host_validates_and_builds_its_event_type()
    {
        var publisher = _host.Services.GetRequiredService<IWebhookPublisher>();

        var invalid = await Assert.ThrowsAsync<WebhookValidationException>(() =>
            publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p1" })));
        var id = await publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p1", currency = "EUR" }));

        Assert.Equal("payload.currency", Assert.Single(invalid.Errors).Field);
        var request = await _receiver.WaitUntilAsync(() => _receiver.RequestsFor("acme").SingleOrDefault(r => r.EventId == id), r => r is not null, $"event {id}");
        Assert.Equal("""{"price_id":"p1","currency":"EUR","source":"billing-platform"}""", request!.Json.GetProperty("payload").GetRawText());
    }

    /// <summary>A host's own builder: requires a currency, and stamps the payload with its source.</summary>
    private sealed class PriceWithCurrencyBuilder() : RequiredFieldsPayloadBuilder(WebhookEventNames.PriceUpdated, "price_id", "currency")
    {
        public override ValueTask<string> BuildAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
        {
            var payload = JsonNode.Parse(webhookEvent.Payload)!.AsObject();
            payload["source"] = "billing-platform";
            return ValueTask.FromResult(payload.ToJsonString(new JsonSerializerOptions()));
        }
    }
}
