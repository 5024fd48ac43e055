using System.Text.Json;

namespace Webhooks.Tests;

/// <summary>What reaches the receiver: the exact body and headers, for each event type and each way of publishing.</summary>
[Collection(EngineCollection.Name)]
public sealed class DeliveryTests(EngineFixture fixture)
{
    private WebhookCluster Cluster => fixture.Cluster;

    private WebhookReceiver Receiver => fixture.Receiver;

    [Fact]
    public async Task Delivers_the_exact_body_with_the_tenant_headers()
    {
        var published = new WebhookEvent
        {
            Id = "evt_exact_1",
            TenantId = "acme",
            EventName = WebhookEventNames.PriceUpdated,
            Timestamp = new DateTimeOffset(2024, 1, 21, 15, 30, 0, TimeSpan.Zero),
            Payload = """{"price_id":"price_123","amount":1999,"currency":"EUR","tiers":[{"up_to":10}]}""",
        };

        var id = await Cluster.ClientPublisher.PublishAsync(published);

        Assert.Equal("evt_exact_1", id);
        var request = Assert.Single(await Receiver.WaitForAsync("acme", 1));
        Assert.Equal("POST", request.Method);
        Assert.Equal(
            """{"id":"evt_exact_1","event_name":"price.updated","timestamp":"2024-01-21T15:30:00Z","tenant_id":"acme","payload":{"price_id":"price_123","amount":1999,"currency":"EUR","tiers":[{"up_to":10}]}}""",
            request.Body);
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("key-acme-123", request.Header("X-Api-Key"));
        Assert.Equal("billing", request.Header("X-Request-Source"));
        Assert.Equal(request.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), request.Header("Content-Length"));
    }

    [Fact]
    public async Task Assigns_a_uuid_and_the_current_utc_time_when_the_publisher_leaves_them_out()
    {
        var before = DateTimeOffset.UtcNow;
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("types", WebhookEventNames.PriceDeleted, new { price_id = "price_9" }));

        Assert.True(Guid.TryParse(id, out _), $"'{id}' is not a UUID");
        var request = await Receiver.WaitUntilAsync(() => Receiver.RequestsFor("types").SingleOrDefault(r => r.EventId == id), r => r is not null, $"event {id}");
        var body = request!.Json;
        Assert.Equal(["id", "event_name", "timestamp", "tenant_id", "payload"], body.EnumerateObject().Select(p => p.Name));
        var timestampText = body.GetProperty("timestamp").GetString()!;
        Assert.EndsWith("Z", timestampText, StringComparison.Ordinal);
        var timestamp = DateTimeOffset.Parse(timestampText, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(timestamp, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }

    public static TheoryData<string, string> ValidPayloads => new()
    {
        { WebhookEventNames.PriceUpdated, """{"price_id":"price_1","amount":100}""" },
        { WebhookEventNames.PriceDeleted, """{"price_id":"price_2"}""" },
        { WebhookEventNames.UsageRecorded, """{"customer_id":"cus_1","meter":"api_calls","quantity":42.5}""" },
        { WebhookEventNames.BillingGenerated, """{"invoice_id":"in_1","customer_id":"cus_1","total":{"amount":5000,"currency":"USD"}}""" },
    };

    [Theory]
    [MemberData(nameof(ValidPayloads))]
    public async Task Delivers_each_event_type_with_its_payload_unchanged(string eventName, string payload)
    {
        var id = await Cluster.ClientPublisher.PublishAsync(new WebhookEvent { TenantId = "types", EventName = eventName, Payload = payload });

        var request = await Receiver.WaitUntilAsync(() => Receiver.RequestsFor("types").SingleOrDefault(r => r.EventId == id), r => r is not null, $"event {id}");
        Assert.Equal(eventName, request!.Json.GetProperty("event_name").GetString());
        Assert.Equal(payload, request.Json.GetProperty("payload").GetRawText());
    }

    public static TheoryData<string, string, string> InvalidPayloads => new()
    {
        { WebhookEventNames.PriceUpdated, """{"amount":100}""", "payload.price_id" },
        { WebhookEventNames.PriceUpdated, """{"price_id":17}""", "payload.price_id" },
        { WebhookEventNames.PriceDeleted, """{"price_id":""}""", "payload.price_id" },
        { WebhookEventNames.PriceDeleted, """{"price_id":null}""", "payload.price_id" },
        { WebhookEventNames.UsageRecorded, """{"price_id":"p"}""", "payload.customer_id" },
        { WebhookEventNames.UsageRecorded, """{"customer_id":["cus_1"]}""", "payload.customer_id" },
        { WebhookEventNames.BillingGenerated, """{"customer_id":"cus_1"}""", "payload.invoice_id" },
        { WebhookEventNames.BillingGenerated, """{"invoice_id":"in_1"}""", "payload.customer_id" },
        { WebhookEventNames.BillingGenerated, """["invoice_id","customer_id"]""", "payload" },
        { WebhookEventNames.UsageRecorded, "\"customer_id\"", "payload" },
        { WebhookEventNames.PriceUpdated, """{"price_id":"p1",""", "payload" },
        { WebhookEventNames.PriceUpdated, "", "payload" },
    };

    [Theory]
    [MemberData(nameof(InvalidPayloads))]
    public async Task Refuses_an_invalid_payload_naming_the_field(string eventName, string payload, string field)
    {
        var published = new WebhookEvent { TenantId = "invalid", EventName = eventName, Payload = payload };

        var error = await Assert.ThrowsAsync<WebhookValidationException>(() => Cluster.ClientPublisher.PublishAsync(published));

        Assert.Contains(error.Errors, e => e.Field == field);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        var stats = await Cluster.Tenant("invalid").GetStats();
        Assert.Equal(0, stats.Received);
    }

    [Theory]
    [InlineData("price.created")]
    [InlineData("PRICE.UPDATED")]
    [InlineData("")]
    public async Task Refuses_an_unknown_event_name(string eventName)
    {
        var published = new WebhookEvent { TenantId = "invalid", EventName = eventName, Payload = """{"price_id":"p"}""" };

        var error = await Assert.ThrowsAsync<WebhookValidationException>(() => Cluster.ClientPublisher.PublishAsync(published));

        Assert.Equal("event_name", Assert.Single(error.Errors).Field);
    }

    [Fact]
    public async Task Refuses_an_event_without_a_tenant()
    {
        var published = WebhookEvent.Create("", WebhookEventNames.PriceUpdated, new { price_id = "p" });

        var error = await Assert.ThrowsAsync<WebhookValidationException>(() => Cluster.ClientPublisher.PublishAsync(published));

        Assert.Equal("tenant_id", Assert.Single(error.Errors).Field);
    }

    [Fact]
    public async Task Publishes_from_an_external_orleans_client()
    {
        var id = await Cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("external", WebhookEventNames.UsageRecorded, new { customer_id = "cus_ext" }));

        var request = Assert.Single(await Receiver.WaitForAsync("external", 1));
        Assert.Equal(id, request.EventId);
    }

    [Fact]
    public async Task Publishes_from_inside_a_silo_as_a_co_hosted_app_does()
    {
        var fromFirst = await Cluster.SiloPublisher(0).PublishAsync(WebhookEvent.Create("cohosted", WebhookEventNames.BillingGenerated, new { invoice_id = "in_1", customer_id = "c" }));
        var fromSecond = await Cluster.SiloPublisher(1).PublishAsync(WebhookEvent.Create("cohosted", WebhookEventNames.BillingGenerated, new { invoice_id = "in_2", customer_id = "c" }));

        var requests = await Receiver.WaitForAsync("cohosted", 2);
        Assert.Equal(new[] { fromFirst, fromSecond }.Order(StringComparer.Ordinal), requests.Select(r => r.EventId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_direct_grain_publish_enters_the_same_pipeline()
    {
        var grain = Cluster.Client.GetGrain<ITenantWebhookGrain>("direct");

        var id = await grain.Publish(new WebhookEvent { EventName = WebhookEventNames.PriceUpdated, Payload = """{"price_id":"price_direct"}""" });

        var request = Assert.Single(await Receiver.WaitForAsync("direct", 1));
        Assert.Equal(id, request.EventId);
        Assert.Equal("direct", request.Json.GetProperty("tenant_id").GetString());
        var stats = await grain.GetStats();
        Assert.Equal(1, stats.Received);
        await Eventually.Until(async () => (await grain.GetStats()).Delivered == 1, "the direct event to be counted as delivered");
    }

    [Fact]
    public async Task A_direct_grain_publish_is_validated_like_any_other()
    {
        var grain = Cluster.Client.GetGrain<ITenantWebhookGrain>("direct");

        var invalid = await Assert.ThrowsAsync<WebhookValidationException>(() => grain.Publish(
            new WebhookEvent { EventName = WebhookEventNames.UsageRecorded, Payload = """{"quantity":1}""" }));
        var otherTenant = await Assert.ThrowsAsync<WebhookValidationException>(() => grain.Publish(
            WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" })));

        Assert.Equal("payload.customer_id", Assert.Single(invalid.Errors).Field);
        Assert.Equal("tenant_id", Assert.Single(otherTenant.Errors).Field);
    }

    [Fact]
    public void Event_json_uses_the_prd_field_names()
    {
        var json = JsonSerializer.Serialize(new WebhookEvent
        {
            Id = "e1",
            TenantId = "t1",
            EventName = WebhookEventNames.PriceUpdated,
            Timestamp = new DateTimeOffset(2024, 1, 21, 15, 30, 0, TimeSpan.Zero),
            Payload = """{"price_id":"p"}""",
        });

        Assert.Equal("""{"id":"e1","event_name":"price.updated","tenant_id":"t1","timestamp":"2024-01-21T15:30:00+00:00","payload":{"price_id":"p"}}""", json);
        var back = JsonSerializer.Deserialize<WebhookEvent>(json)!;
        Assert.Equal("""{"price_id":"p"}""", back.Payload);
    }
}
