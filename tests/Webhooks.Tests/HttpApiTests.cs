using System.Net;
using System.Text;
using System.Text.Json;

namespace Webhooks.Tests;

/// <summary>The silo's HTTP API: <c>POST /v1/events</c>, <c>GET /healthz</c> and the development receiver.</summary>
public sealed class HttpApiTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private SiloHost _silo = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.Hang("stuck");
        var address = SiloHost.ReserveAddress();
        var tenants = new TenantsYaml()
            .Tenant("acme", _receiver.EndpointFor("acme"), new Dictionary<string, string> { ["X-Api-Key"] = "k-1" })
            .Tenant("stuck", _receiver.EndpointFor("stuck"))
            .Tenant("devtenant", new Uri(address, "/dev/receiver/devtenant").ToString());
        _silo = await SiloHost.StartAsync(
            tenants.ToString(),
            """
            delivery:
              timeout: 00:01:00
              max_concurrency: 1
              buffer_size: 2
            ingest:
              max_wait: 00:00:00
            development:
              receiver: true
            """,
            address);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task Healthz_answers_200_when_the_silo_is_up()
    {
        var response = await _silo.Http.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_accepted_event_gets_202_with_its_id_and_is_delivered()
    {
        var response = await PostAsync("""{"tenant_id":"acme","event_name":"billing.generated","payload":{"invoice_id":"in_1","customer_id":"cus_1","total":12.5}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var request = Assert.Single(await _receiver.WaitForAsync("acme", 1));
        Assert.Equal(id, request.EventId);
        Assert.Equal("k-1", request.Header("X-Api-Key"));
        Assert.Equal("""{"invoice_id":"in_1","customer_id":"cus_1","total":12.5}""", request.Json.GetProperty("payload").GetRawText());
    }

    [Fact]
    public async Task The_publisher_may_set_the_id_and_timestamp()
    {
        var response = await PostAsync("""{"tenant_id":"acme","event_name":"price.deleted","id":"evt_http_1","timestamp":"2024-01-21T16:30:00+01:00","payload":{"price_id":"p"}}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"id":"evt_http_1"}""", await response.Content.ReadAsStringAsync());
        var request = await _receiver.WaitUntilAsync(() => _receiver.RequestsFor("acme").SingleOrDefault(r => r.EventId == "evt_http_1"), r => r is not null, "evt_http_1");
        Assert.Equal("2024-01-21T15:30:00Z", request!.Json.GetProperty("timestamp").GetString());
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { "{not json", "body" },
        { "", "body" },
        { "[1,2]", "body" },
        { """{"event_name":"price.updated","payload":{"price_id":"p"}}""", "tenant_id" },
        { """{"tenant_id":42,"event_name":"price.updated","payload":{"price_id":"p"}}""", "tenant_id" },
        { """{"tenant_id":"","event_name":"price.updated","payload":{"price_id":"p"}}""", "tenant_id" },
        { """{"tenant_id":"acme","payload":{"price_id":"p"}}""", "event_name" },
        { """{"tenant_id":"acme","event_name":"price.created","payload":{"price_id":"p"}}""", "event_name" },
        { """{"tenant_id":"acme","event_name":"price.updated"}""", "payload" },
        { """{"tenant_id":"acme","event_name":"price.updated","payload":[1]}""", "payload" },
        { """{"tenant_id":"acme","event_name":"price.updated","payload":{"amount":1}}""", "payload.price_id" },
        { """{"tenant_id":"acme","event_name":"usage.recorded","payload":{"customer_id":7}}""", "payload.customer_id" },
        { """{"tenant_id":"acme","event_name":"billing.generated","payload":{"customer_id":"c"}}""", "payload.invoice_id" },
        { """{"tenant_id":"acme","event_name":"price.updated","id":7,"payload":{"price_id":"p"}}""", "id" },
        { """{"tenant_id":"acme","event_name":"price.updated","timestamp":"yesterday","payload":{"price_id":"p"}}""", "timestamp" },
        { """{"tenant_id":"acme","event_name":"price.updated","timestamp":"2024-01-21T15:30:00","payload":{"price_id":"p"}}""", "timestamp" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_gets_400_problem_details_naming_the_field(string body, string field)
    {
        var response = await PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), $"no error for '{field}' in {problem}");
        Assert.NotEmpty(messages.EnumerateArray());
    }

    [Fact]
    public async Task A_full_buffer_gets_429_with_retry_after_and_the_silo_keeps_serving()
    {
        // One delivery hangs in flight and two wait in the buffer: the next is refused at once (max_wait is zero).
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await PostAsync($$$"""{"tenant_id":"stuck","event_name":"price.updated","payload":{"price_id":"p{{{i}}}"}}""")).StatusCode);
        }

        var refused = await PostAsync("""{"tenant_id":"stuck","event_name":"price.updated","payload":{"price_id":"p3"}}""");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("""{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":"after"}}""")).StatusCode);
    }

    [Fact]
    public async Task The_development_receiver_shows_what_was_delivered_to_it()
    {
        var response = await PostAsync("""{"tenant_id":"devtenant","event_name":"usage.recorded","payload":{"customer_id":"cus_dev"}}""");
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var received = await Eventually.Until(
            async () => await _silo.Http.GetFromJsonAsync<JsonElement>("/dev/receiver"),
            list => list.EnumerateArray().Any(d => d.GetProperty("body").GetProperty("id").GetString() == id),
            "the delivery to show in /dev/receiver");

        var delivery = received.EnumerateArray().First(d => d.GetProperty("body").GetProperty("id").GetString() == id);
        Assert.Equal("/devtenant", delivery.GetProperty("path").GetString());
        Assert.Equal("cus_dev", delivery.GetProperty("body").GetProperty("payload").GetProperty("customer_id").GetString());
    }

    private Task<HttpResponseMessage> PostAsync(string json) =>
        _silo.Http.PostAsync("/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
}
