using System.Net;
using System.Text;
using System.Text.Json;

namespace Webhooks.Tests;

/// <summary>
/// <c>POST /v1/events</c> under the silo-wide backlog bound (<c>delivery.max_pending</c>): a tenant whose endpoint hangs
/// fills its share, and the next event gets 503 with <c>Retry-After</c> and problem details, counted as a refusal.
/// </summary>
public sealed class HttpOverflowTests
{
    // The tenant's own bound (1 + 100) is far above the silo's (20), so the silo's is the one that is hit. A stuck
    // tenant alone may hold no more than the silo has free: 10 of 20. Publishers do not wait for room.
    private const string SiloYaml = """
        delivery:
          timeout: 00:01:00
          max_concurrency: 1
          buffer_size: 100
          max_pending: 20
        ingest:
          max_wait: 00:00:00
        """;

    [Fact]
    public async Task A_full_silo_backlog_gets_503_with_retry_after_and_problem_details()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck");
        var tenants = new TenantsYaml()
            .Tenant("stuck", receiver.EndpointFor("stuck"))
            .Tenant("healthy", receiver.EndpointFor("healthy"));
        var silo = await SiloHost.StartAsync(tenants.ToString(), SiloYaml);
        await using var _ = new Stopping(receiver, silo);

        var (accepted, refused) = await PublishUntilRefusedAsync(silo, "stuck");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(["1"], refused.Headers.GetValues("Retry-After"));
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["type", "title", "status", "detail", "trace_id"], problem.EnumerateObject().Select(p => p.Name));
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.6.4", problem.GetProperty("type").GetString());
        Assert.Equal("Event not accepted: try again later", problem.GetProperty("title").GetString());
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal(
            "Event for tenant 'stuck' not accepted: the silo holds as many undelivered events as it may, or this tenant its share of them. Retry after 1 s.",
            problem.GetProperty("detail").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("trace_id").GetString()));

        // The refusal is counted with its reason; the gateway refused it, so the tenant never saw it.
        await Eventually.Until(
            () => silo.Http.GetStringAsync("/metrics"),
            text => PrometheusText.Sum(text, "webhooks_events_refused_total", "reason", "silo_backlog_full") == 1,
            "one refusal counted as silo_backlog_full");
        Assert.InRange(accepted, 1, 20);
        var grain = silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("stuck");
        var stats = await Eventually.Until(grain.GetStats, s => s.Received == accepted, "every accepted event to reach the tenant");
        Assert.Equal(0, stats.Refused);
        await receiver.WaitUntilAsync(() => receiver.OpenRequests("stuck"), open => open == 1, "the delivery in flight to hang at the receiver");

        // The silo keeps serving: a tenant that holds nothing still gets in and is delivered.
        var healthy = await PostAsync(silo, "healthy", "fine");
        Assert.Equal(HttpStatusCode.Accepted, healthy.StatusCode);
        var id = (await healthy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(id, Assert.Single(await receiver.WaitForAsync("healthy", 1)).EventId);
    }

    [Fact]
    public async Task Over_http_a_stuck_tenant_holds_no_more_than_the_silo_has_free()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("stuck");
        var silo = await SiloHost.StartAsync(new TenantsYaml().Tenant("stuck", receiver.EndpointFor("stuck")).ToString(), SiloYaml);
        await using var _ = new Stopping(receiver, silo);

        // As through a direct grain publish: with 10 of 20 held, the silo has 10 free, and the tenant may take no more.
        var (accepted, refused) = await PublishUntilRefusedAsync(silo, "stuck");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(10, accepted);
    }

    // Publishes to the tenant until an event is refused; returns how many were accepted, and the refusal.
    private static async Task<(int Accepted, HttpResponseMessage Refused)> PublishUntilRefusedAsync(SiloHost silo, string tenant)
    {
        for (var accepted = 0; accepted < 100; accepted++)
        {
            var response = await PostAsync(silo, tenant, $"p{accepted}");
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return (accepted, response);
            }
        }

        throw new InvalidOperationException($"{tenant} took 100 events without a refusal");
    }

    private static Task<HttpResponseMessage> PostAsync(SiloHost silo, string tenant, string priceId) =>
        silo.Http.PostAsync(
            "/v1/events",
            new StringContent($$$"""{"tenant_id":"{{{tenant}}}","event_name":"price.updated","payload":{"price_id":"{{{priceId}}}"}}""", Encoding.UTF8, "application/json"));

    // Stops the receiver first, which ends the hanging request, so that the silo stops without waiting for it.
    private sealed class Stopping(WebhookReceiver receiver, SiloHost silo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await receiver.DisposeAsync();
            await silo.DisposeAsync();
        }
    }
}
