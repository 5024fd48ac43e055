using System.Net;
using System.Text;

namespace Webhooks.Tests;

/// <summary>API keys on <c>/v1</c>, a separate admin key for operator routes, open health probes, input limits.</summary>
public sealed class ApiSecurityTests : IAsyncLifetime
{
    private const string PublisherKey = "publisher-key-0123456789";
    private const string AdminKey = "admin-key-0123456789abcdef";
    private WebhookReceiver _receiver = null!;
    private SiloHost _silo = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_ADMIN_KEY", AdminKey);
        _silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("acme", _receiver.EndpointFor("acme")).ToString(),
            $"""
            api:
              keys: [{PublisherKey}]
              admin_keys: ["${"{"}env:WEBHOOKS_TEST_ADMIN_KEY{"}"}"]
            ingest:
              max_payload_bytes: 2048
              max_json_depth: 5
            """);
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_ADMIN_KEY", null);
        await _receiver.DisposeAsync();
        await _silo.DisposeAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer not-a-key-at-all-000000")]
    [InlineData("Bearer ")]
    [InlineData("Basic cHVibGlzaGVyOmtleQ==")]
    public async Task Without_a_valid_key_the_api_answers_401(string? authorization)
    {
        var response = await SendAsync(HttpMethod.Post, "/v1/events", Event("p"), authorization);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_receiver.All);
    }

    [Theory]
    [InlineData(PublisherKey)]
    [InlineData(AdminKey)]
    public async Task A_valid_key_may_publish(string key)
    {
        var response = await SendAsync(HttpMethod.Post, "/v1/events", Event("p"), $"Bearer {key}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Operator_routes_take_only_the_admin_key()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/v1/tenants/acme/failed", null, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Get, "/v1/tenants/acme/failed", null, $"Bearer {PublisherKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(HttpMethod.Post, "/v1/tenants/acme/enable", null, $"Bearer {PublisherKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v1/tenants/acme/failed", null, $"Bearer {AdminKey}")).StatusCode);
    }

    [Fact]
    public async Task Health_stays_open()
    {
        Assert.Equal(HttpStatusCode.OK, (await _silo.Http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task A_payload_over_the_limit_gets_413()
    {
        var response = await SendAsync(HttpMethod.Post, "/v1/events", Event(new string('x', 3000)), $"Bearer {PublisherKey}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_body_far_over_the_limit_is_cut_off_with_413()
    {
        var response = await SendAsync(HttpMethod.Post, "/v1/events", Event(new string('x', 200_000)), $"Bearer {PublisherKey}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_payload_nested_too_deeply_gets_400_naming_the_payload()
    {
        var nested = """{"price_id":"p","a":{"b":{"c":{"d":{"e":{"f":1}}}}}}""";
        var response = await SendAsync(HttpMethod.Post, "/v1/events", $$"""{"tenant_id":"acme","event_name":"price.updated","payload":{{nested}}}""", $"Bearer {PublisherKey}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"payload\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_open_api_listening_beyond_loopback_stops_start_up()
    {
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", extraArgs: ["--urls", "http://0.0.0.0:5999"]);

        Assert.Contains("http://0.0.0.0:5999", message, StringComparison.Ordinal);
        Assert.Contains("api.keys", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http_ports", "http://*:5997")]
    [InlineData("https_ports", "https://*:5997")]
    public async Task An_open_api_on_every_address_by_port_alone_stops_start_up_too(string setting, string shown)
    {
        // As in a container image that sets ASPNETCORE_HTTP_PORTS: with 'urls' emptied, Kestrel listens on the port
        // on every address.
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", extraArgs: ["--urls", "", $"--{setting}", "5997"]);

        Assert.Contains(shown, message, StringComparison.Ordinal);
        Assert.Contains("api.keys", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_open_api_on_a_kestrel_endpoint_beyond_loopback_stops_start_up_too()
    {
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", "Kestrel:\n  Endpoints:\n    Public:\n      Url: http://0.0.0.0:5998\n");

        Assert.Contains("http://0.0.0.0:5998", message, StringComparison.Ordinal);
        Assert.Contains("api.keys", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api:\n  keys: [short]\n", "api.keys.0", "shorter than 16")]
    [InlineData("api:\n  keys: [\"${env:WEBHOOKS_TEST_NOT_SET}\"]\n", "api.keys.0", "WEBHOOKS_TEST_NOT_SET")]
    public async Task A_bad_api_key_stops_start_up_naming_the_field(string siloYaml, string field, string problem)
    {
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", siloYaml);

        Assert.Contains(field, message, StringComparison.Ordinal);
        Assert.Contains(problem, message, StringComparison.Ordinal);
    }

    private static string Event(string priceId) => $$$"""{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":"{{{priceId}}}"}}""";

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, string? authorization)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return _silo.Http.SendAsync(request);
    }
}
