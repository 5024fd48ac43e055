using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Webhooks.Delivery;
using Webhooks.Payloads;
using Webhooks.Security;

namespace Webhooks.Benchmarks.Micro;

/// <summary>The per-event work outside the network: checking, building, serializing and signing, with allocations.</summary>
[MemoryDiagnoser]
public class PayloadBenchmarks
{
    private static readonly WebhookEvent Event = new()
    {
        Id = "0d3c5bd4-8a57-4c3e-9d8e-4c1f0c7f7b1a",
        TenantId = "tenant1",
        EventName = WebhookEventNames.BillingGenerated,
        Timestamp = new DateTimeOffset(2024, 1, 21, 15, 30, 0, TimeSpan.Zero),
        Payload = """{"invoice_id":"in_123","customer_id":"cus_456","total":{"amount":12999,"currency":"EUR"},"lines":[{"price_id":"p1","quantity":3}]}""",
    };

    private static readonly PayloadBuilderRegistry Registry = new([]);
    private static readonly RequiredFieldsPayloadBuilder Builder = new(WebhookEventNames.BillingGenerated, "invoice_id", "customer_id");
    private static readonly byte[][] Keys = [SigningSecret.TryDecode(SigningSecret.Generate(), out _)!];
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup() => _body = WebhookRequestBody.Write(Event, Event.Payload);

    [Benchmark(Description = "envelope checks (id, tenant, name)")]
    public int CheckEnvelope() => WebhookEventRules.Validate(Event).Count;

    [Benchmark(Description = "payload validation (parse + required fields)")]
    public int ValidatePayload()
    {
        using var document = JsonDocument.Parse(Event.Payload);
        return Builder.Validate(document.RootElement).Count();
    }

    [Benchmark(Description = "payload building (builder lookup + build, as the builder grain does)")]
    public async Task<int> BuildPayload()
    {
        var builder = Registry.Find(Event.EventName)!;
        return (await builder.BuildAsync(Event, CancellationToken.None)).Length;
    }

    [Benchmark(Description = "delivery body serialization")]
    public int WriteBody() => WebhookRequestBody.Write(Event, Event.Payload).Length;

    [Benchmark(Description = "Standard Webhooks signature")]
    public int Sign() => WebhookSigner.Sign(Keys, Event.Id, 1_700_000_000, _body).Length;
}
