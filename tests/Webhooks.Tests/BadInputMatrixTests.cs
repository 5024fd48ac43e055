using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;
using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// The one running silo every case of the bad-input matrix is sent to, with a capture of its logs and the path of
/// the <c>tenants.yaml</c> it watches.
/// </summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    public SiloHost Silo { get; private set; } = null!;

    public FakeLogCollector Logs { get; } = new();

    /// <summary>The tenants the silo started with, to put back after a refused edit.</summary>
    public string GoodTenantsYaml { get; private set; } = null!;

    public string TenantsPath { get; private set; } = null!;

    internal WebhookSettingsMonitor Settings => Silo.Services.GetRequiredService<WebhookSettingsMonitor>();

    public ITenantWebhookGrain Acme => Silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();

        // Slow answers and one delivery at a time keep the events published before a case in the silo while it runs.
        Receiver.AnswerAfter("acme", TimeSpan.FromMilliseconds(50));
        GoodTenantsYaml = new TenantsYaml().Tenant("acme", Receiver.EndpointFor("acme")).ToString();
        Silo = await SiloHost.StartAsync(GoodTenantsYaml, "ingest:\n  max_payload_bytes: 4096\n  max_json_depth: 8\ndelivery:\n  max_concurrency: 1\n");
        Silo.Services.GetRequiredService<ILoggerFactory>().AddProvider(new FakeLoggerProvider(Logs));
        TenantsPath = ((IConfigurationRoot)Silo.Services.GetRequiredService<IConfiguration>()).Providers
            .OfType<ReloadSafeYamlProvider>()
            .Single(p => p.FilePath.EndsWith("tenants.yaml", StringComparison.Ordinal))
            .FilePath;
    }

    public async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await Silo.DisposeAsync();
    }

    /// <summary>Publishes a valid event over HTTP and returns its id.</summary>
    public async Task<string> PublishAsync(string customer)
    {
        var response = await Silo.Http.PostAsync("/v1/events", Json($$$"""{"tenant_id":"acme","event_name":"usage.recorded","payload":{"customer_id":"{{{customer}}}"}}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}

/// <summary>
/// Bad input across configuration, the HTTP API and the grain API, all sent to one running silo: each gets a clear
/// error, and that same silo delivers both the events accepted just before the bad input and one published just after.
/// </summary>
public sealed class BadInputMatrixTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    private static readonly Dictionary<string, Func<BadInputFixture, Task>> Cases = new()
    {
        // HTTP ingest: 400 naming the field, or 413.
        ["http: malformed JSON"] = f => Http(f, "{not json", 400, "body"),
        ["http: empty body"] = f => Http(f, "", 400, "body"),
        ["http: a JSON array"] = f => Http(f, "[]", 400, "body"),
        ["http: a JSON string"] = f => Http(f, "\"event\"", 400, "body"),
        ["http: no tenant_id"] = f => Http(f, """{"event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "tenant_id"),
        ["http: tenant_id a number"] = f => Http(f, """{"tenant_id":7,"event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "tenant_id"),
        ["http: tenant_id with a slash"] = f => Http(f, """{"tenant_id":"a/b","event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "tenant_id"),
        ["http: tenant_id too long"] = f => Http(f, "{\"tenant_id\":\"" + new string('t', 129) + "\",\"event_name\":\"price.updated\",\"payload\":{\"price_id\":\"p\"}}", 400, "tenant_id"),
        ["http: no event_name"] = f => Http(f, """{"tenant_id":"acme","payload":{"price_id":"p"}}""", 400, "event_name"),
        ["http: unknown event_name"] = f => Http(f, """{"tenant_id":"acme","event_name":"invoice.paid","payload":{"price_id":"p"}}""", 400, "event_name"),
        ["http: event_name in upper case"] = f => Http(f, """{"tenant_id":"acme","event_name":"PRICE.UPDATED","payload":{"price_id":"p"}}""", 400, "event_name"),
        ["http: no payload"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated"}""", 400, "payload"),
        ["http: payload a string"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated","payload":"price_id=p"}""", 400, "payload"),
        ["http: payload null"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated","payload":null}""", 400, "payload"),
        ["http: payload without price_id"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.deleted","payload":{}}""", 400, "payload.price_id"),
        ["http: price_id a number"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":1}}""", 400, "payload.price_id"),
        ["http: billing without invoice_id"] = f => Http(f, """{"tenant_id":"acme","event_name":"billing.generated","payload":{"customer_id":"c"}}""", 400, "payload.invoice_id"),
        ["http: id with a space"] = f => Http(f, """{"tenant_id":"acme","id":"evt 1","event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "id"),
        ["http: id too long"] = f => Http(f, "{\"tenant_id\":\"acme\",\"id\":\"" + new string('i', 129) + "\",\"event_name\":\"price.updated\",\"payload\":{\"price_id\":\"p\"}}", 400, "id"),
        ["http: id a number"] = f => Http(f, """{"tenant_id":"acme","id":12,"event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "id"),
        ["http: timestamp without offset"] = f => Http(f, """{"tenant_id":"acme","timestamp":"2024-01-21T15:30:00","event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "timestamp"),
        ["http: timestamp not a date"] = f => Http(f, """{"tenant_id":"acme","timestamp":"soon","event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "timestamp"),
        ["http: tenant_id an unpaired surrogate"] = f => Http(f, """{"tenant_id":"\udc00","event_name":"price.updated","payload":{"price_id":"p"}}""", 400, "tenant_id"),
        ["http: price_id an unpaired surrogate"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":"\ud800"}}""", 400, "payload.price_id"),
        ["http: payload too large"] = f => Http(f, "{\"tenant_id\":\"acme\",\"event_name\":\"price.updated\",\"payload\":{\"price_id\":\"" + new string('p', 5000) + "\"}}", 413, "payload"),
        ["http: payload nested too deeply"] = f => Http(f, """{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":"p","a":[[[[[[[[[1]]]]]]]]]}}""", 400, "payload"),

        // Operator routes.
        ["http: replay without event_id or since"] = f => Http(f, "{}", 400, "body", "/v1/tenants/acme/failed/replay"),
        ["http: replay since not a date"] = f => Http(f, """{"since":"yesterday"}""", 400, "since", "/v1/tenants/acme/failed/replay"),
        ["http: replay of an unpaired surrogate"] = f => Http(f, """{"event_id":"\ud800"}""", 400, "event_id", "/v1/tenants/acme/failed/replay"),
        ["http: replay since an unpaired surrogate"] = f => Http(f, """{"since":"\ud800"}""", 400, "since", "/v1/tenants/acme/failed/replay"),
        ["http: operator route with a tenant id that has a space"] = f => Http(f, """{"event_id":"e"}""", 400, "tenant", "/v1/tenants/ac%20me/failed/replay"),
        ["http: operator route with a tenant id too long"] = f => Http(f, "", 400, "tenant", $"/v1/tenants/{new string('t', 129)}/enable"),
        ["http: replay of an unknown event"] = f => Http(f, """{"event_id":"never-failed"}""", 404, null, "/v1/tenants/acme/failed/replay"),

        // Grain API.
        ["grain: unknown event name"] = f => Grain(f, new WebhookEvent { EventName = "price.created", Payload = """{"price_id":"p"}""" }, "event_name"),
        ["grain: payload not an object"] = f => Grain(f, new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = "[1,2]" }, "payload"),
        ["grain: payload not JSON"] = f => Grain(f, new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = "{price_id:p}" }, "payload"),
        ["grain: empty payload"] = f => Grain(f, new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = "" }, "payload"),
        ["grain: price_id an unpaired surrogate"] = f => Grain(f, new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = """{"price_id":"\ud800"}""" }, "payload.price_id"),
        ["grain: another tenant's event"] = f => Grain(f, WebhookEvent.Create("globex", WebhookEventNames.PriceUpdated, new { price_id = "p" }), "tenant_id"),
        ["grain: id with control characters"] = f => Grain(f, WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" }) with { Id = "evt\n1" }, "id"),

        // Configuration: an edit of the running silo's tenants.yaml is refused and the last good configuration stays.
        ["config: malformed YAML"] = f => Config(f, "webhook:\n  tenants:\n    acme: {endpoint: [\n", "malformed YAML"),
        ["config: endpoint not http(s)"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: gopher://x\n", "tenant 'acme', field 'endpoint'"),
        ["config: unknown excluded event"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: https://x.example\n      excluded_events: [price.moved]\n", "field 'excluded_events'"),
        ["config: excluded_events a single value"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: https://x.example\n      excluded_events: usage.recorded\n", "field 'webhook.tenants.acme.excluded_events' must be a list"),
        ["config: malformed secret"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: https://x.example\n      secret: whsec_tooshort\n", "field 'secret'"),
        ["config: unresolvable secret reference"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: https://x.example\n      secret: ${env:WEBHOOKS_TEST_NOWHERE}\n", "WEBHOOKS_TEST_NOWHERE"),
        ["config: reserved header"] = f => Config(f, "webhook:\n  tenants:\n    acme:\n      endpoint: https://x.example\n      headers:\n        Host: evil.example\n", "field 'headers.Host'"),
        ["config: tenant id with a space"] = f => Config(f, "webhook:\n  tenants:\n    \"ac me\":\n      endpoint: https://x.example\n", "tenant 'ac me'"),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Fact]
    public void The_matrix_has_at_least_thirty_cases() => Assert.True(Cases.Count >= 30, $"{Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Bad_input_gets_a_clear_error_and_the_same_silo_delivers_the_events_before_and_after_it(string name)
    {
        List<string> before = [];
        for (var i = 0; i < 3; i++)
        {
            before.Add(await fixture.PublishAsync($"before-{i}"));
        }

        await Cases[name](fixture);

        Assert.Equal(HttpStatusCode.OK, (await fixture.Silo.Http.GetAsync("/healthz")).StatusCode);
        var after = await fixture.PublishAsync("after");
        string[] expected = [.. before, after];
        var delivered = await fixture.Receiver.WaitUntilAsync(
            () => fixture.Receiver.SuccessesFor("acme"),
            s => expected.All(s.ContainsKey),
            "the events published just before and just after the bad input");
        Assert.All(expected, id => Assert.Equal(1, delivered[id]));

        // The deliveries were made by the silo that took the bad input: its tenant grain recorded them.
        await Eventually.Until(
            () => fixture.Acme.GetAttempts(100),
            attempts => expected.All(id => attempts.Any(a => a.EventId == id && a.Outcome == "delivered")),
            "the running silo to record each delivery");
    }

    private static async Task Http(BadInputFixture fixture, string body, int status, string? field, string path = "/v1/events")
    {
        var response = await fixture.Silo.Http.PostAsync(path, BadInputFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty(field, out _), $"no error for '{field}' in {text}");
        }
    }

    private static async Task Grain(BadInputFixture fixture, WebhookEvent webhookEvent, string field)
    {
        var grain = fixture.Silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ITenantWebhookGrain>("acme");

        var error = await Assert.ThrowsAsync<WebhookValidationException>(() => grain.Publish(webhookEvent));

        Assert.Contains(error.Errors, e => e.Field == field);
    }

    private static async Task Config(BadInputFixture fixture, string tenantsYaml, string expected)
    {
        List<string> Rejections() =>
        [
            .. fixture.Logs.GetSnapshot()
                .Where(l => l.Level == LogLevel.Error && l.Message.Contains("rejected", StringComparison.Ordinal) && l.Message.Contains(expected, StringComparison.Ordinal))
                .Select(l => l.Message),
        ];

        var seen = Rejections().Count;
        await File.WriteAllTextAsync(fixture.TenantsPath, tenantsYaml);
        var rejections = await Eventually.Until(() => Task.FromResult(Rejections()), r => r.Count > seen, $"the running silo to refuse the edit with '{expected}'");
        Assert.Contains(fixture.TenantsPath, rejections[^1], StringComparison.Ordinal);

        // The last good tenants stay in force.
        var acme = fixture.Settings.Current.Find("acme");
        Assert.NotNull(acme);
        Assert.Equal(new Uri(fixture.Receiver.EndpointFor("acme")), acme.Endpoint);
        Assert.Null(fixture.Settings.Current.Find("ac me"));

        // Put the good file back, and wait until the silo has read it, so that the next case starts from it.
        var refused = fixture.Settings.Current;
        await File.WriteAllTextAsync(fixture.TenantsPath, fixture.GoodTenantsYaml);
        await Eventually.Until(() => Task.FromResult(!ReferenceEquals(fixture.Settings.Current, refused)), "the running silo to read the good file again");
    }
}
