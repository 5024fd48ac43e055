using System.Collections.Concurrent;
using System.Net;
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
        var tenantsPath = _files.Write("tenants.yaml", new TenantsYaml().Tenant("acme", _receiver.EndpointFor("acme"), retrySchedule: ["00:00:00.100"]).ToString());

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection([KeyValuePair.Create<string, string?>("security:allowed_networks:0", "127.0.0.0/8")]);
        builder.Configuration.AddWebhooksYamlFile(tenantsPath);
        builder.Services.AddWebhookPayloadBuilder<PriceWithCurrencyBuilder>();
        builder.Services.AddWebhookPayloadBuilder<InvoiceBuilder>();
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

    [Fact]
    public async Task A_payload_that_fails_to_build_fails_its_own_event_only()
    {
        var tenant = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");

        // The events wait as failed while the endpoint is down, so that a replay sends them together, built in one batch.
        _receiver.RespondWith("acme", HttpStatusCode.Gone);
        await tenant.Publish(WebhookEvent.Create("acme", WebhookEventNames.UsageRecorded, new { customer_id = "cus_1" }));
        await Eventually.Until(async () => !(await tenant.GetEndpointStatus()).Enabled, "the endpoint is disabled");
        var since = DateTimeOffset.UtcNow;
        var ids = new List<string>();
        foreach (var invoice in new[] { "in_1", InvoiceBuilder.Unrenderable, "in_3" })
        {
            ids.Add(await tenant.Publish(WebhookEvent.Create("acme", WebhookEventNames.BillingGenerated, new { invoice_id = invoice, customer_id = "cus_1" })));
        }

        _receiver.RespondWith("acme", HttpStatusCode.OK);
        await tenant.Enable();
        var replay = await tenant.ReplaySince(since);

        Assert.Equal(3, replay.Replayed);
        var delivered = await _receiver.WaitUntilAsync(
            () => _receiver.RequestsFor("acme"), r => r.Count(x => x.EventId == ids[0] || x.EventId == ids[2]) == 2, "the events whose payloads build");
        Assert.Equal("""{"invoice_id":"in_1","customer_id":"cus_1"}""", delivered.Single(r => r.EventId == ids[0]).Json.GetProperty("payload").GetRawText());
        Assert.Equal("""{"invoice_id":"in_3","customer_id":"cus_1"}""", delivered.Single(r => r.EventId == ids[2]).Json.GetProperty("payload").GetRawText());
        var attempts = await Eventually.Until(
            async () => (await tenant.GetAttempts(10)).Where(a => ids.Contains(a.EventId)).ToArray(),
            a => a.Count(x => x.EventId != ids[1]) == 2 && a.Any(x => x.EventId == ids[1]),
            "an attempt per replayed event");
        Assert.Equal(["delivered", "delivered"], attempts.Where(a => a.EventId != ids[1]).Select(a => a.Outcome));
        var failed = attempts.First(a => a.EventId == ids[1]);
        Assert.Equal("error", failed.Outcome);
        Assert.Equal($"the payload builder failed: InvalidOperationException: invoice {InvoiceBuilder.Unrenderable} cannot be rendered", failed.Error);
        Assert.Null(failed.StatusCode);
        Assert.DoesNotContain(_receiver.RequestsFor("acme"), r => r.EventId == ids[1]);
    }

    [Fact]
    public async Task Payloads_of_events_waiting_in_line_are_built_ahead_each_with_its_own()
    {
        var tenant = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");
        var invoices = Enumerable.Range(1, 40).Select(i => $"in_ahead_{i}").ToArray();

        // The first four deliveries are held, so that the rest wait in line behind them.
        _receiver.Hold("acme");
        var ids = new List<string>();
        foreach (var invoice in invoices)
        {
            ids.Add(await tenant.Publish(WebhookEvent.Create("acme", WebhookEventNames.BillingGenerated, new { invoice_id = invoice, customer_id = "cus_1" })));
        }

        await _receiver.WaitUntilAsync(() => _receiver.OpenRequests("acme"), open => open == 4, "the first four deliveries");
        Assert.Equal(4, InvoiceBuilder.BuildsOf(invoices));
        _receiver.Release("acme");

        // The fifth delivery's payload was built in one call with those of the next 31 in line.
        await _receiver.WaitUntilAsync(() => _receiver.RequestsFor("acme").Count, count => count >= 5, "the fifth delivery");
        Assert.True(InvoiceBuilder.BuildsOf(invoices) >= 36, $"{InvoiceBuilder.BuildsOf(invoices)} payloads built by the fifth delivery");

        var delivered = await _receiver.WaitForAsync("acme", 40);
        Assert.Equal(ids.Order(), delivered.Select(r => r.EventId).Order());
        Assert.All(delivered, r => Assert.Equal(
            $$"""{"invoice_id":"{{invoices[ids.IndexOf(r.EventId)]}}","customer_id":"cus_1"}""",
            r.Json.GetProperty("payload").GetRawText()));
        Assert.All(invoices, invoice => Assert.Equal(1, InvoiceBuilder.BuildsOf([invoice])));
    }

    [Fact]
    public async Task A_payload_built_ahead_in_a_call_that_failed_is_built_again_in_its_turn()
    {
        var tenant = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");
        var invoices = new[] { "in_held_1", "in_held_2", "in_held_3", "in_held_4", "in_next_1", "in_next_2", InvoiceBuilder.Unrenderable, "in_next_3" };

        // Four deliveries are held; the other four wait in line, and are built together, ahead, with the fifth.
        _receiver.Hold("acme");
        var ids = new List<string>();
        foreach (var invoice in invoices)
        {
            ids.Add(await tenant.Publish(WebhookEvent.Create("acme", WebhookEventNames.BillingGenerated, new { invoice_id = invoice, customer_id = "cus_1" })));
        }

        await _receiver.WaitUntilAsync(() => _receiver.OpenRequests("acme"), open => open == 4, "the first four deliveries");
        _receiver.Release("acme");

        var good = ids.Where((_, i) => invoices[i] != InvoiceBuilder.Unrenderable).ToArray();
        var delivered = await _receiver.WaitUntilAsync(
            () => _receiver.RequestsFor("acme").Where(r => good.Contains(r.EventId)).ToArray(), r => r.Length == good.Length, "the events whose payloads build");
        Assert.All(delivered, r => Assert.Equal(
            $$"""{"invoice_id":"{{invoices[ids.IndexOf(r.EventId)]}}","customer_id":"cus_1"}""",
            r.Json.GetProperty("payload").GetRawText()));
        var attempts = await Eventually.Until(
            async () => (await tenant.GetAttempts(20)).Where(a => ids.Contains(a.EventId)).ToArray(),
            a => a.Length >= ids.Count,
            "an attempt per event");
        Assert.All(attempts.Where(a => good.Contains(a.EventId)), a => Assert.Equal(("delivered", 1), (a.Outcome, a.Attempt)));
        Assert.All(attempts.Where(a => !good.Contains(a.EventId)), a => Assert.Equal(
            $"the payload builder failed: InvalidOperationException: invoice {InvoiceBuilder.Unrenderable} cannot be rendered", a.Error));
    }

    [Fact]
    public async Task Each_attempt_builds_its_payload_anew()
    {
        var tenant = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");
        _receiver.FailFirst("acme", 1);

        var id = await tenant.Publish(WebhookEvent.Create("acme", WebhookEventNames.BillingGenerated, new { invoice_id = "in_retried", customer_id = "cus_1" }));

        var requests = await _receiver.WaitForAsync("acme", 2);
        Assert.Equal([id, id], requests.Select(r => r.EventId));
        Assert.Equal(2, InvoiceBuilder.BuildsOf(["in_retried"]));
    }

    /// <summary>A host's own builder that cannot render one invoice.</summary>
    private sealed class InvoiceBuilder() : RequiredFieldsPayloadBuilder(WebhookEventNames.BillingGenerated, "invoice_id", "customer_id")
    {
        public const string Unrenderable = "in_unrenderable";

        private static readonly ConcurrentDictionary<string, int> Builds = new(StringComparer.Ordinal);

        /// <summary>How many payloads were built for these invoices, in every test of this class.</summary>
        public static int BuildsOf(IEnumerable<string> invoices) => invoices.Sum(invoice => Builds.GetValueOrDefault(invoice));

        public override ValueTask<string> BuildAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken)
        {
            var invoice = JsonDocument.Parse(webhookEvent.Payload).RootElement.GetProperty("invoice_id").GetString()!;
            Builds.AddOrUpdate(invoice, 1, (_, count) => count + 1);
            return invoice == Unrenderable
                ? throw new InvalidOperationException($"invoice {Unrenderable} cannot be rendered")
                : ValueTask.FromResult(webhookEvent.Payload);
        }
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
