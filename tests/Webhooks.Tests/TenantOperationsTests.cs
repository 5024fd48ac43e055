using System.Net;
using System.Text;
using System.Text.Json;

namespace Webhooks.Tests;

/// <summary>How an operator finds and replays failed events over HTTP, and reads attempts and endpoint status.</summary>
public sealed class TenantOperationsTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private SiloHost _silo = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.RespondWith("flaky", HttpStatusCode.InternalServerError);
        _receiver.RespondWith("gone", HttpStatusCode.Gone);
        var tenants = new TenantsYaml()
            .Tenant("flaky", _receiver.EndpointFor("flaky"), retrySchedule: ["00:00:00.050"])
            .Tenant("gone", _receiver.EndpointFor("gone"));
        _silo = await SiloHost.StartAsync(tenants.ToString());
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _silo.DisposeAsync();
    }

    [Fact]
    public async Task Failed_events_are_listed_and_replayed_one_by_one_or_since_a_time()
    {
        var first = await PublishAsync("flaky", "p1");
        var second = await PublishAsync("flaky", "p2");
        var failed = await Eventually.Until(() => GetJsonAsync("/v1/tenants/flaky/failed"), f => f.GetArrayLength() == 2, "two failed events");

        var entry = failed.EnumerateArray().Single(f => f.GetProperty("event").GetProperty("id").GetString() == first);
        Assert.Equal("retries_exhausted", entry.GetProperty("reason").GetString());
        Assert.Equal(2, entry.GetProperty("attempts").GetInt32());
        Assert.Equal(500, entry.GetProperty("last_status_code").GetInt32());
        Assert.Equal("p1", entry.GetProperty("event").GetProperty("payload").GetProperty("price_id").GetString());

        _receiver.RespondWith("flaky", HttpStatusCode.OK);
        var one = await PostJsonAsync("/v1/tenants/flaky/failed/replay", $$"""{"event_id":"{{first}}"}""");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal("""{"replayed":1,"remaining":0}""", await one.Content.ReadAsStringAsync());
        await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor("flaky"), s => s.ContainsKey(first), "the replayed event");

        var rest = await PostJsonAsync("/v1/tenants/flaky/failed/replay", """{"since":"2000-01-01T00:00:00Z"}""");
        Assert.Equal("""{"replayed":1,"remaining":0}""", await rest.Content.ReadAsStringAsync());
        await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor("flaky"), s => s.ContainsKey(second), "the second replayed event");
        Assert.Equal(0, (await GetJsonAsync("/v1/tenants/flaky/failed")).GetArrayLength());

        var attempts = await GetJsonAsync("/v1/tenants/flaky/attempts?limit=3");
        Assert.Equal(3, attempts.GetArrayLength());
        Assert.Equal(200, attempts[0].GetProperty("status_code").GetInt32());
        Assert.All(attempts.EnumerateArray(), a => Assert.True(a.TryGetProperty("duration", out _)));
    }

    [Theory]
    [InlineData("""{"event_id":"nope"}""", HttpStatusCode.NotFound)]
    [InlineData("""{}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"event_id":"a","since":"2000-01-01T00:00:00Z"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"since":"last tuesday"}""", HttpStatusCode.BadRequest)]
    [InlineData("""{"event_id":7}""", HttpStatusCode.BadRequest)]
    [InlineData("""not json""", HttpStatusCode.BadRequest)]
    public async Task A_bad_replay_request_gets_a_problem(string body, HttpStatusCode status)
    {
        var response = await PostJsonAsync("/v1/tenants/flaky/failed/replay", body);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_disabled_endpoint_refuses_replay_until_enabled()
    {
        var id = await PublishAsync("gone", "p1");
        var status = await Eventually.Until(() => GetJsonAsync("/v1/tenants/gone/status"), s => !s.GetProperty("enabled").GetBoolean(), "the endpoint to be disabled");
        Assert.Contains("410", status.GetProperty("disabled_reason").GetString(), StringComparison.Ordinal);

        var refused = await PostJsonAsync("/v1/tenants/gone/failed/replay", $$"""{"event_id":"{{id}}"}""");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);

        _receiver.RespondWith("gone", HttpStatusCode.OK);
        var enabled = await _silo.Http.PostAsync("/v1/tenants/gone/enable", null);
        Assert.True((await enabled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await PostJsonAsync("/v1/tenants/gone/failed/replay", $$"""{"event_id":"{{id}}"}""")).StatusCode);
        await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor("gone"), s => s.ContainsKey(id), "the replayed event");
    }

    private async Task<string> PublishAsync(string tenant, string priceId)
    {
        var response = await PostJsonAsync("/v1/events", $$$"""{"tenant_id":"{{{tenant}}}","event_name":"price.updated","payload":{"price_id":"{{{priceId}}}"}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        _silo.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private Task<JsonElement> GetJsonAsync(string path) => _silo.Http.GetFromJsonAsync<JsonElement>(path);
}
