using Microsoft.Extensions.Time.Testing;
using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

public sealed class EventRulesTests
{
    [Fact]
    public void Normalize_keeps_what_the_publisher_set_and_converts_to_utc()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var published = new WebhookEvent { Id = "e1", TenantId = "t", EventName = WebhookEventNames.PriceUpdated, Timestamp = new DateTimeOffset(2024, 1, 21, 16, 30, 0, TimeSpan.FromHours(1)) };

        var normalized = WebhookEventRules.Normalize(published, clock);

        Assert.Equal("e1", normalized.Id);
        Assert.Equal(new DateTimeOffset(2024, 1, 21, 15, 30, 0, TimeSpan.Zero), normalized.Timestamp);
        Assert.Equal(TimeSpan.Zero, normalized.Timestamp.Offset);
    }

    [Fact]
    public void Normalize_assigns_a_v4_uuid_and_the_clock_time()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

        var normalized = WebhookEventRules.Normalize(new WebhookEvent { TenantId = "t", EventName = WebhookEventNames.PriceUpdated }, clock);

        Assert.Equal(4, Guid.Parse(normalized.Id).Version);
        Assert.Equal(clock.GetUtcNow(), normalized.Timestamp);
    }

    [Theory]
    [InlineData("t\u0000", "tenant_id")]
    [InlineData("   ", "tenant_id")]
    public void Tenant_ids_with_control_characters_or_blanks_are_refused(string tenantId, string field)
    {
        var errors = WebhookEventRules.Validate(new WebhookEvent { TenantId = tenantId, EventName = WebhookEventNames.PriceUpdated, Payload = "{}" });

        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void Over_long_ids_are_refused()
    {
        var errors = WebhookEventRules.Validate(new WebhookEvent { Id = new string('x', 257), TenantId = "t", EventName = WebhookEventNames.PriceUpdated, Payload = "{}" });

        Assert.Equal("id", Assert.Single(errors).Field);
    }

    [Theory]
    [InlineData(0, "2024-01-21T15:30:00Z")]
    [InlineData(1234567, "2024-01-21T15:30:00.1234567Z")]
    [InlineData(5000000, "2024-01-21T15:30:00.5Z")]
    public void Delivery_timestamps_are_rfc3339_utc(long extraTicks, string expected)
    {
        var timestamp = new DateTimeOffset(2024, 1, 21, 16, 30, 0, TimeSpan.FromHours(1)).AddTicks(extraTicks);

        Assert.Equal(expected, WebhookRequestBody.FormatTimestamp(timestamp));
    }

    [Fact]
    public void A_builder_output_that_is_not_json_fails_the_body_instead_of_reaching_the_receiver()
    {
        var webhookEvent = new WebhookEvent { Id = "e", TenantId = "t", EventName = WebhookEventNames.PriceUpdated, Timestamp = DateTimeOffset.UnixEpoch };

        Assert.ThrowsAny<System.Text.Json.JsonException>(() => WebhookRequestBody.Write(webhookEvent, "{not json"));
    }

    [Fact]
    public void Bodies_written_one_after_another_on_a_thread_are_each_exactly_their_own()
    {
        // The thread's buffer is reused: a short body after a long one, after a failed one, and after one so large
        // that the buffer is let go of, has nothing of those before it.
        var webhookEvent = new WebhookEvent { Id = "e-1", TenantId = "t", EventName = WebhookEventNames.PriceUpdated, Timestamp = DateTimeOffset.UnixEpoch };

        // The failed one has a long tenant id, so that its first fields are already in the buffer when its payload fails.
        var failing = webhookEvent with { TenantId = new string('t', 5_000) };
        var large = $$"""{"note":"{{new string('é', 40_000)}}"}""";
        string[] payloads = ["""{"price_id":"p1","amount":12999}""", large, "{not json", """{"a":1}""", "{not json", "[]"];

        foreach (var payload in payloads)
        {
            if (payload == "{not json")
            {
                Assert.ThrowsAny<System.Text.Json.JsonException>(() => WebhookRequestBody.Write(failing, payload));
                continue;
            }

            var body = WebhookRequestBody.Write(webhookEvent, payload);
            Assert.Equal(
                $$"""{"id":"e-1","event_name":"price.updated","timestamp":"1970-01-01T00:00:00Z","tenant_id":"t","payload":{{payload}}}""",
                System.Text.Encoding.UTF8.GetString(body));
        }
    }
}
