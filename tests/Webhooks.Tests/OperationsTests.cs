using System.Diagnostics;
using System.Net;

namespace Webhooks.Tests;

/// <summary>What operators see: Prometheus metrics, traces reaching the receiver, readiness, the dashboard.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task Every_outcome_moves_its_counter_on_the_prometheus_endpoint()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith("erroring", HttpStatusCode.ServiceUnavailable);
        receiver.Hang("hanging");
        var port = receiver.BaseAddress.Port;
        var tenants = new TenantsYaml()
            .Tenant("fine", receiver.EndpointFor("fine"), excluded: [WebhookEventNames.UsageRecorded])
            .Tenant("erroring", receiver.EndpointFor("erroring"), retrySchedule: ["01:00:00"])
            .Tenant("hanging", receiver.EndpointFor("hanging"), retrySchedule: ["01:00:00"])
            .Tenant("closed", $"http://127.0.0.1:{FreePorts.Next()}/hooks/closed", retrySchedule: ["01:00:00"])
            .Tenant("blocked", $"http://127.0.0.2:{port}/hooks/blocked", retrySchedule: ["01:00:00"]);
        await using var silo = await SiloHost.StartAsync(tenants.ToString(), "delivery:\n  timeout: 00:00:01\nsecurity:\n  allowed_networks: [127.0.0.1/32]\n");
        var before = await silo.Http.GetStringAsync("/metrics");

        foreach (var tenant in new[] { "fine", "erroring", "hanging", "closed", "blocked" })
        {
            await silo.PublishAsync(tenant, "price.updated");
        }

        await silo.PublishAsync("fine", "usage.recorded");
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.PublishAsync("fine", "price.created")).StatusCode);

        string[] outcomes = ["delivered", "http_error", "timeout", "connection_error", "refused"];
        var after = await Eventually.Until(
            () => silo.Http.GetStringAsync("/metrics"),
            text => outcomes.All(outcome => PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "outcome", outcome) > PrometheusText.Sum(before, "webhooks_delivery_attempts_total", "outcome", outcome)),
            "an attempt of every outcome on /metrics");

        Assert.Equal(1, PrometheusText.Sum(after, "webhooks_delivery_attempts_total", "status_class", "5xx"));
        Assert.Equal(1, PrometheusText.Sum(after, "webhooks_events_filtered_total", "reason", "event_excluded"));
        Assert.Equal(1, PrometheusText.Sum(after, "webhooks_events_refused_total", "reason", "invalid"));
        Assert.Equal(6, PrometheusText.Sum(after, "webhooks_events_accepted_total"));
        Assert.Equal(7, PrometheusText.Sum(after, "webhooks_events_published_total"));
        Assert.Equal(1, PrometheusText.Sum(after, "webhooks_delivery_latency_seconds_count"));
        Assert.Equal(5, PrometheusText.Sum(after, "webhooks_delivery_duration_seconds_count"));
        Assert.Equal(4, PrometheusText.Sum(after, "webhooks_retries_pending"));
        Assert.Equal(4, PrometheusText.Sum(after, "webhooks_delivery_retries_total"));
        Assert.Contains(after.Split('\n'), line => line.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.DoesNotContain("tenant=", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tenant_labels_are_opt_in()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var silo = await SiloHost.StartAsync(new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString(), "observability:\n  tenant_labels: true\n");

        await silo.PublishAsync("acme", "price.updated");

        await Eventually.Until(
            () => silo.Http.GetStringAsync("/metrics"),
            text => PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "tenant", "acme") == 1,
            "an attempt tagged with its tenant");
    }

    [Fact]
    public async Task Labels_never_take_an_event_name_or_tenant_id_that_a_publisher_made_up()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var silo = await SiloHost.StartAsync(new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString(), "observability:\n  tenant_labels: true\n");

        Assert.Equal(HttpStatusCode.BadRequest, (await silo.PublishAsync("acme", "made-up-event-name")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.PublishAsync("made up tenant", "price.updated")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("not-configured-tenant", "price.updated")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("acme", "price.updated")).StatusCode);

        var metrics = await Eventually.Until(
            () => silo.Http.GetStringAsync("/metrics"),
            text => PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "tenant", "acme") == 1,
            "the configured tenant's attempt");
        Assert.Equal(4, PrometheusText.Sum(metrics, "webhooks_events_published_total"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_published_total", "event_name", "invalid"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_published_total", "tenant", "unknown"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "webhooks_events_published_total", "tenant", "invalid"));
        Assert.DoesNotContain("made-up-event-name", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("made up tenant", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("not-configured-tenant", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_publishers_trace_context_reaches_the_receiver()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var silo = await SiloHost.StartAsync(new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString());
        var traceId = ActivityTraceId.CreateRandom();
        var parent = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01";

        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = SiloHost.EventJson("acme", "price.updated") };
        request.Headers.Add("traceparent", parent);
        Assert.Equal(HttpStatusCode.Accepted, (await silo.Http.SendAsync(request)).StatusCode);

        var delivered = Assert.Single(await receiver.WaitForAsync("acme", 1));
        var traceParent = delivered.Header("traceparent");
        Assert.NotNull(traceParent);
        Assert.Equal(traceId.ToString(), traceParent.Split('-')[1]);
        Assert.NotEqual(parent, traceParent);
    }

    [Fact]
    public async Task With_durable_storage_each_publish_is_counted_once()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString(),
            $"storage:\n  provider: redis\n  redis: {redis.ConnectionString}\n");

        // The first publish learns from the grain that storage is durable; the second goes to the grain straight away.
        Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("acme", "price.updated")).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await silo.PublishAsync("acme", "price.deleted")).StatusCode);
        await receiver.WaitForAsync("acme", 2);

        var metrics = await Eventually.Until(
            () => silo.Http.GetStringAsync("/metrics"),
            text => PrometheusText.Sum(text, "webhooks_delivery_attempts_total", "outcome", "delivered") == 2,
            "both deliveries on /metrics");
        Assert.Equal(2, PrometheusText.Sum(metrics, "webhooks_events_published_total"));
        Assert.Equal(2, PrometheusText.Sum(metrics, "webhooks_events_accepted_total"));
    }

    [Fact]
    public async Task Readiness_turns_unhealthy_while_storage_is_down_and_back_when_it_returns()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var silo = await SiloHost.StartAsync("webhook:\n  tenants: {}\n", $"storage:\n  provider: redis\n  redis: {redis.ConnectionString}\n");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/readyz")).StatusCode);

        await redis.StopAsync();
        await Eventually.Until(async () => (await silo.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable, "/readyz to turn unhealthy");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.GetAsync("/healthz")).StatusCode);

        await redis.RestartAsync();
        await Eventually.Until(async () => (await silo.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "/readyz to recover");
    }

    [Fact]
    public async Task The_dashboard_is_served_behind_the_admin_key()
    {
        const string AdminKey = "admin-key-for-the-dashboard-0001";
        await using var silo = await SiloHost.StartAsync(
            "webhook:\n  tenants: {}\n",
            $"observability:\n  dashboard: true\napi:\n  keys: [publisher-key-000000000001]\n  admin_keys: [{AdminKey}]\n");

        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.GetAsync("/dashboard")).StatusCode);
        // The trailing slash: a redirect would drop the Authorization header.
        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        request.Headers.Add("Authorization", $"Bearer {AdminKey}");
        var response = await silo.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("html", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        Assert.Contains("Orleans", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
