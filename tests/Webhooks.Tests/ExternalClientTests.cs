using System.Text.Json;
using Webhooks.Hosting;

namespace Webhooks.Tests;

/// <summary>An Orleans client in another host publishes through the runnable silo's gateway, configured as the README shows.</summary>
public sealed class ExternalClientTests
{
    [Fact]
    public async Task An_external_client_with_the_silos_ids_publishes_and_the_event_is_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var gatewayPort = FreePorts.Next();
        await using var silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString(),
            extraArgs: [$"--orleans:gateway_port={gatewayPort}"]);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client
            .UseLocalhostClustering(gatewayPort: gatewayPort, serviceId: "webhooks", clusterId: "webhooks-dev")
            .AddWebhooksClient(options => options.MaxWait = TimeSpan.FromSeconds(1)));
        using var app = builder.Build();
        await app.StartAsync();
        try
        {
            var publisher = app.Services.GetRequiredService<IWebhookPublisher>();
            var id = await publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "price_123", amount = 1999 }));

            var delivered = Assert.Single(await receiver.WaitForAsync("acme", 1));
            using var body = JsonDocument.Parse(delivered.Body);
            Assert.Equal(id, body.RootElement.GetProperty("id").GetString());
            Assert.Equal("price.updated", body.RootElement.GetProperty("event_name").GetString());
            Assert.Equal("acme", body.RootElement.GetProperty("tenant_id").GetString());
            Assert.Equal("""{"price_id":"price_123","amount":1999}""", body.RootElement.GetProperty("payload").GetRawText());
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
