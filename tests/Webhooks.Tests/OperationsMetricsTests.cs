using System.Net;
using System.Text;
using System.Text.Json;
using OpenTelemetry.Metrics;
using Webhooks.Configuration;
using Webhooks.Hosting;
using Webhooks.Observability;
using Webhooks.Payloads;

namespace Webhooks.Tests;

/// <summary>
/// What the Prometheus endpoint shows beyond the attempt counters: the per-silo gauges, publishes refused by reason, and
/// attempts that end in an engine-side error.
/// </summary>
public sealed class OperationsMetricsTests
{
    [Fact]
    public async Task The_gauges_show_buffered_in_flight_failed_and_disabled_and_fall_back_when_they_clear()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("hanging");
        receiver.RespondWith("gone", HttpStatusCode.Gone);
        receiver.RespondWith("exhausted", HttpStatusCode.InternalServerError);
        var tenants = new TenantsYaml()
            .Tenant("hanging", receiver.EndpointFor("hanging"))
            .Tenant("gone", receiver.EndpointFor("gone"))
            .Tenant("exhausted", receiver.EndpointFor("exhausted"), retrySchedule: ["00:00:00.050"]);
        var silo = await SiloHost.StartAsync(tenants.ToString(), "delivery:\n  timeout: 00:01:00\n  max_concurrency: 1\n");
        try
        {
            // One delivery hangs in flight and three wait behind it for the tenant's only slot.
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("hanging", "price.updated")).StatusCode);
            }

            // A 410 keeps the event as failed and disables the endpoint; the next event is kept as failed at once.
            Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("gone", "price.updated")).StatusCode);
            await Eventually.Until(
                () => silo.Http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_endpoints_down") == 1,
                "the gone endpoint to count as down");
            Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("gone", "price.deleted")).StatusCode);

            // A 500 is tried twice (the schedule has one retry), then kept as failed.
            Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("exhausted", "price.updated")).StatusCode);

            var metrics = await Eventually.Until(
                () => silo.Http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_failed_kept") == 3 && PrometheusText.Sum(text, "webhooks_buffer_depth") == 3,
                "three failed events kept and three buffered");
            Assert.Equal(3, PrometheusText.Sum(metrics, "webhooks_buffer_depth"));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_deliveries_in_flight"));
            Assert.Equal(3, PrometheusText.Sum(metrics, "webhooks_failed_kept"));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_endpoints_down"));
            Assert.Equal(0, PrometheusText.Sum(metrics, "webhooks_retries_pending"));
            Assert.Equal(3, PrometheusText.Sum(metrics, "webhooks_tenants_active"));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_failed_total", "reason", FailureReasons.EndpointGone));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_failed_total", "reason", FailureReasons.EndpointDisabled));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_failed_total", "reason", FailureReasons.RetriesExhausted));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_endpoints_disabled_total"));
            await receiver.WaitUntilAsync(() => receiver.OpenRequests("hanging"), open => open == 1, "the delivery in flight to hang at the receiver");

            // The operator enables the endpoint and replays its two failed events: they leave the failed events, the
            // endpoint is no longer down, and both are delivered.
            receiver.RespondWith("gone", HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.OK, (await silo.Http.PostAsync("/v1/tenants/gone/enable", null)).StatusCode);
            var replay = await silo.Http.PostAsync(
                "/v1/tenants/gone/failed/replay",
                new StringContent("""{"since":"2000-01-01T00:00:00Z"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(2, JsonDocument.Parse(await replay.Content.ReadAsStringAsync()).RootElement.GetProperty("replayed").GetInt32());
            await receiver.WaitUntilAsync(() => receiver.SuccessesFor("gone").Count, count => count == 2, "both replayed events delivered");

            var after = await Eventually.Until(
                () => silo.Http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_failed_kept") == 1 && PrometheusText.Sum(text, "webhooks_endpoints_down") == 0
                    && PrometheusText.Sum(text, "webhooks_deliveries_in_flight") == 1 && PrometheusText.Sum(text, "webhooks_buffer_depth") == 3,
                "the gauges to drop once the endpoint is enabled and its events replayed");
            Assert.Equal(3, PrometheusText.Sum(after, "webhooks_buffer_depth"));
            Assert.Equal(1, PrometheusText.Sum(after, "webhooks_deliveries_in_flight"));
        }
        finally
        {
            // The receiver first: it ends the hanging request, so that the silo need not wait for its timeout.
            await receiver.DisposeAsync();
            await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Publishes_refused_for_a_full_tenant_buffer_are_counted_by_reason()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck");
        var silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("stuck", receiver.EndpointFor("stuck")).ToString(),
            "delivery:\n  timeout: 00:01:00\n  max_concurrency: 1\n  buffer_size: 2\ningest:\n  max_wait: 00:00:00\n");
        try
        {
            // The tenant holds max_concurrency + buffer_size = 3 events; the next two are refused with 429.
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("stuck", "price.updated")).StatusCode);
            }

            Assert.Equal(HttpStatusCode.TooManyRequests, (await silo.PublishAsync("stuck", "price.updated")).StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await silo.PublishAsync("stuck", "price.deleted")).StatusCode);

            var metrics = await Eventually.Until(
                () => silo.Http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_events_refused_total", "reason", RefusalReasons.TenantBufferFull) == 2,
                "two refusals for a full tenant buffer");
            Assert.Equal(0, PrometheusText.Sum(metrics, "webhooks_events_refused_total", "reason", RefusalReasons.SiloBacklogFull));
            Assert.Equal(2, PrometheusText.Sum(metrics, "webhooks_events_refused_total"));
            Assert.Equal(3, PrometheusText.Sum(metrics, "webhooks_events_accepted_total"));
            Assert.Equal(5, PrometheusText.Sum(metrics, "webhooks_events_published_total"));
        }
        finally
        {
            await receiver.DisposeAsync();
            await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Publishes_refused_for_a_full_silo_backlog_are_counted_by_reason()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck");
        var silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("stuck", receiver.EndpointFor("stuck")).ToString(),
            "delivery:\n  timeout: 00:01:00\n  max_concurrency: 1\n  buffer_size: 100\n  max_pending: 20\ningest:\n  max_wait: 00:00:00\n");
        try
        {
            // The tenant's own buffer (101) is far from full: the silo's backlog of 20 refuses first, with 503.
            var accepted = 0;
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 40 && statuses.Count < 3; i++)
            {
                var status = (await silo.PublishAsync("stuck", "price.updated")).StatusCode;
                if (status == HttpStatusCode.Accepted)
                {
                    Assert.Empty(statuses);
                    accepted++;
                }
                else
                {
                    statuses.Add(status);
                }
            }

            Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable], statuses);
            // The gateway asks for credits in doubling batches (1, 2, 4, then 8). The tenant grants what single publishes
            // would get, at most half of the silo's free room less what it holds: 1 + 2 + 4, then ((20 - 7) - 7) / 2 = 3
            // of the 8; then none. It ends holding 10 with 10 free, as a direct publisher does.
            Assert.Equal(10, accepted);

            var metrics = await Eventually.Until(
                () => silo.Http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_events_refused_total", "reason", RefusalReasons.SiloBacklogFull) == 3,
                "three refusals for a full silo backlog");
            Assert.Equal(0, PrometheusText.Sum(metrics, "webhooks_events_refused_total", "reason", RefusalReasons.TenantBufferFull));
            Assert.Equal(accepted, PrometheusText.Sum(metrics, "webhooks_events_accepted_total"));
            Assert.Equal(accepted + 3, PrometheusText.Sum(metrics, "webhooks_events_published_total"));
        }
        finally
        {
            await receiver.DisposeAsync();
            await silo.DisposeAsync();
        }
    }

    // The runnable silo takes no payload builders of a host's own, so the builder failure is driven through a host
    // application that runs the engine and serves the engine's meter on its own Prometheus endpoint.
    [Fact]
    public async Task An_attempt_whose_payload_builder_fails_counts_as_an_error()
    {
        using var files = new TempDirectory();
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenantsPath = files.Write(
            "tenants.yaml",
            new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme"), retrySchedule: ["01:00:00"]).ToString());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(
        [
            KeyValuePair.Create<string, string?>("security:allowed_networks:0", "127.0.0.0/8"),

            // A failure of the endpoint's would disable it at once; the builder's is not the endpoint's.
            KeyValuePair.Create<string, string?>("delivery:auto_disable_failures", "1"),
        ]);
        builder.Configuration.AddWebhooksYamlFile(tenantsPath);
        builder.Services.AddWebhookPayloadBuilder<FailingPriceDeletedBuilder>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(WebhookMetrics.MeterName).AddPrometheusExporter());
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePorts.Next(), FreePorts.Next())
            .AddWebhooks(builder.Configuration));
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
            var publisher = app.Services.GetRequiredService<IWebhookPublisher>();

            var failing = await publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceDeleted, new { price_id = "p" }));
            var fine = await publisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

            Assert.Equal(fine, Assert.Single(await receiver.WaitForAsync("acme", 1)).EventId);
            var metrics = await Eventually.Until(
                () => http.GetStringAsync("/metrics"),
                text => PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "outcome", "error") == 1
                    && PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "outcome", "delivered") == 1,
                "an attempt with outcome error and a delivered one on /metrics");
            var errorLine = Assert.Single(metrics.Split('\n'), line => line.StartsWith("webhooks_delivery_attempts_total{", StringComparison.Ordinal) && line.Contains("outcome=\"error\"", StringComparison.Ordinal));
            Assert.Contains("event_name=\"price.deleted\"", errorLine, StringComparison.Ordinal);
            Assert.Contains("status_class=\"none\"", errorLine, StringComparison.Ordinal);
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_delivery_attempts_total", "outcome", "delivered"));
            Assert.Equal(2, PrometheusText.Sum(metrics, "webhooks_delivery_attempts_total"));
            Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_retries_pending"));

            // The receiver never saw the event whose payload could not be built; its attempt says why.
            Assert.DoesNotContain(receiver.RequestsFor("acme"), request => request.EventId == failing);
            var attempts = await app.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme").GetAttempts(10);
            var error = Assert.Single(attempts, attempt => attempt.EventId == failing);
            Assert.Equal("error", error.Outcome);
            Assert.Null(error.StatusCode);
            Assert.Contains(FailingPriceDeletedBuilder.Message, error.Error, StringComparison.Ordinal);
            var status = await app.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme").GetEndpointStatus();
            Assert.True(status.Enabled);
            Assert.Equal(0, status.ConsecutiveFailures);
            Assert.Null(status.FailingSince);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>Accepts price.deleted payloads as the default builder does, then fails to build them.</summary>
    private sealed class FailingPriceDeletedBuilder() : RequiredFieldsPayloadBuilder(WebhookEventNames.PriceDeleted, "price_id")
    {
        public const string Message = "the price catalogue is unavailable";

        public override ValueTask<string> BuildAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Message);
    }
}
