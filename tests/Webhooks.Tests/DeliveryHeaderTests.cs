using System.Diagnostics;
using System.Globalization;
using System.Text;
using Webhooks.Security;

namespace Webhooks.Tests;

/// <summary>
/// The complete set of request headers a delivery carries, so that a header the engine starts sending by accident, or
/// stops sending, fails a test.
/// </summary>
public sealed class DeliveryHeaderTests : IAsyncLifetime
{
    private const string UserAgent = "Webhooks.Orleans.Tests/1.0";
    private static readonly string Secret = SigningSecret.Generate();
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        var tenants = $$"""
            webhook:
              tenants:
                plain:
                  endpoint: {{_receiver.EndpointFor("plain")}}
                  headers:
                    X-Api-Key: key-plain-1
                    X-Request-Source: billing
                signed:
                  endpoint: {{_receiver.EndpointFor("signed")}}
                  secret: {{Secret}}
                  headers:
                    Authorization: Bearer token-signed-1
            """;
        _cluster = await WebhookCluster.StartAsync(new RawTenantsYaml(tenants), $"delivery:\n  timeout: 00:00:05\n  user_agent: {UserAgent}\n");
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_delivery_carries_exactly_the_engines_headers_the_trace_context_and_the_tenants_headers()
    {
        using var publish = StartTrace();
        await _cluster.ClientPublisher.PublishAsync(new WebhookEvent
        {
            Id = "evt_headers_1",
            TenantId = "plain",
            EventName = WebhookEventNames.PriceUpdated,
            Timestamp = new DateTimeOffset(2024, 1, 21, 15, 30, 0, TimeSpan.Zero),
            Payload = """{"price_id":"price_123","amount":1999}""",
        });

        var request = Assert.Single(await _receiver.WaitForAsync("plain", 1));
        Assert.Equal("POST", request.Method);
        Assert.Equal(
            """{"id":"evt_headers_1","event_name":"price.updated","timestamp":"2024-01-21T15:30:00Z","tenant_id":"plain","payload":{"price_id":"price_123","amount":1999}}""",
            request.Body);
        AssertHeaders(
            request,
            publish,
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["X-Api-Key"] = "key-plain-1",
                ["X-Request-Source"] = "billing",
            });
    }

    [Fact]
    public async Task A_signed_delivery_adds_exactly_the_three_standard_webhooks_headers()
    {
        using var publish = StartTrace();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("signed", WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "cus_1" }) with { Id = "evt_headers_2" });

        var request = Assert.Single(await _receiver.WaitForAsync("signed", 1));
        var timestamp = request.Header("webhook-timestamp");
        Assert.NotNull(timestamp);
        Assert.InRange(long.Parse(timestamp, CultureInfo.InvariantCulture), before, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var signature = request.Header("webhook-signature");
        Assert.NotNull(signature);
        new StandardWebhooks.StandardWebhook(Secret).Verify(request.Body, ToHeaders(request));
        AssertHeaders(
            request,
            publish,
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["Authorization"] = "Bearer token-signed-1",
                ["webhook-id"] = "evt_headers_2",
                ["webhook-timestamp"] = timestamp,
                ["webhook-signature"] = signature,
            });
        Assert.Matches("^v1,[A-Za-z0-9+/]{43}=$", signature);
    }

    // Every header the receiver got, against the engine's own (Host, Content-Type, Content-Length, User-Agent,
    // traceparent) plus the ones given: nothing more, nothing less.
    private void AssertHeaders(ReceivedRequest request, Activity publish, Dictionary<string, string> tenantHeaders)
    {
        var traceParent = request.Header("traceparent");
        Assert.NotNull(traceParent);
        Assert.Matches($"^00-{publish.TraceId}-[0-9a-f]{{16}}-0[01]$", traceParent);

        var expected = new Dictionary<string, string>(tenantHeaders, StringComparer.OrdinalIgnoreCase)
        {
            ["Host"] = _receiver.BaseAddress.Authority,
            ["Content-Type"] = "application/json",
            ["Content-Length"] = Encoding.UTF8.GetByteCount(request.Body).ToString(CultureInfo.InvariantCulture),
            ["User-Agent"] = UserAgent,
            ["traceparent"] = traceParent,
        };
        Assert.Equal(Lines(expected), Lines(request.Headers));
    }

    // Header names compare without case, as HTTP has it; values compare exactly.
    private static IEnumerable<string> Lines(IEnumerable<KeyValuePair<string, string>> headers) =>
        headers.Select(h => $"{h.Key.ToLowerInvariant()}: {h.Value}").Order(StringComparer.Ordinal);

    // The publisher's trace, which the delivery joins.
    private static Activity StartTrace() => new Activity("test-publish").SetIdFormat(ActivityIdFormat.W3C).Start();

    private static HeaderDictionary ToHeaders(ReceivedRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        return headers;
    }
}
