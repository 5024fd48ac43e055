using System.Net;
using System.Text;
using System.Text.Json;

namespace Webhooks.Tests;

/// <summary>With no <c>ingest.max_payload_bytes</c> in <c>silo.yaml</c>, the runnable silo applies 256 KiB.</summary>
public sealed class DefaultPayloadLimitTests
{
    private const int DefaultLimit = 256 * 1024;

    [Fact]
    public async Task A_payload_just_over_256_KiB_gets_413_and_one_at_the_limit_is_delivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var silo = await SiloHost.StartAsync(new TenantsYaml().Tenant("acme", receiver.EndpointFor("acme")).ToString());

        var over = await PublishAsync(silo, Payload(DefaultLimit + 1));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Equal("application/problem+json", over.Content.Headers.ContentType?.MediaType);

        var atLimit = await PublishAsync(silo, Payload(DefaultLimit));
        Assert.Equal(HttpStatusCode.Accepted, atLimit.StatusCode);
        var atLimitId = JsonDocument.Parse(await atLimit.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var underLimit = await PublishAsync(silo, Payload(DefaultLimit - 1));
        Assert.Equal(HttpStatusCode.Accepted, underLimit.StatusCode);
        var underLimitId = JsonDocument.Parse(await underLimit.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        var delivered = await receiver.WaitForAsync("acme", 2);
        Assert.Equal(new[] { atLimitId, underLimitId }.Order(StringComparer.Ordinal), delivered.Select(r => r.EventId).Order(StringComparer.Ordinal));
        var padding = delivered.ToDictionary(r => r.EventId, r => r.Json.GetProperty("payload").GetProperty("pad").GetString()!.Length);
        Assert.Equal(DefaultLimit - Envelope, padding[atLimitId]);
        Assert.Equal(DefaultLimit - 1 - Envelope, padding[underLimitId]);
    }

    // The bytes of a payload around its padding: {"price_id":"p","pad":"…"}
    private const int Envelope = 25;

    private static string Payload(int bytes)
    {
        var payload = "{\"price_id\":\"p\",\"pad\":\"" + new string('x', bytes - Envelope) + "\"}";
        Assert.Equal(bytes, Encoding.UTF8.GetByteCount(payload));
        return payload;
    }

    private static Task<HttpResponseMessage> PublishAsync(SiloHost silo, string payload) =>
        silo.Http.PostAsync("/v1/events", new StringContent($$"""{"tenant_id":"acme","event_name":"price.updated","payload":{{payload}}}""", Encoding.UTF8, "application/json"));
}
