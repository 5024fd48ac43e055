using System.Net;
using System.Text.Json;
using Webhooks.Security;

namespace Webhooks.Tests;

/// <summary>Header values, secrets and signatures never reach logs, exceptions, metrics or API responses.</summary>
public sealed class SecretsInLogsTests
{
    private const string HeaderSecret = "hdr-secret-5f0c2e7b9a41";
    private static readonly string SigningKey = SigningSecret.Generate();

    [Fact]
    public async Task Nothing_secret_is_logged_at_trace_through_deliveries_failures_and_errors()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.RespondWith("failing", HttpStatusCode.InternalServerError);
        var tenants = new RawTenantsYaml($$"""
            webhook:
              tenants:
                ok:
                  endpoint: {{receiver.EndpointFor("ok")}}
                  secret: {{SigningKey}}
                  headers:
                    Authorization: Bearer {{HeaderSecret}}
                failing:
                  endpoint: {{receiver.EndpointFor("failing")}}
                  secret: {{SigningKey}}
                  retry_schedule: [00:00:00.050]
                  headers:
                    X-Api-Key: {{HeaderSecret}}
                blocked:
                  endpoint: http://127.0.0.2:9/hooks/blocked?token={{HeaderSecret}}
                  secret: {{SigningKey}}
                  retry_schedule: [00:00:00.050]
                  headers:
                    X-Api-Key: {{HeaderSecret}}
            """);
        await using var cluster = await WebhookCluster.StartAsync(tenants, logLevel: LogLevel.Trace);
        var signatures = new List<string>();

        await cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("ok", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("failing", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("blocked", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        await receiver.WaitForAsync("ok", 1);
        await Eventually.Until(async () => (await cluster.Tenant("failing").GetStats()).Failed == 1, "the failing event to be given up on");
        await Eventually.Until(async () => (await cluster.Tenant("blocked").GetStats()).Failed == 1, "the blocked event to be given up on");
        signatures.AddRange(receiver.All.Select(r => r.Header("webhook-signature")!));

        // What operators read back: failed events, attempts, endpoint status.
        var responses = new List<string>();
        foreach (var tenant in new[] { "ok", "failing", "blocked" })
        {
            responses.Add(JsonSerializer.Serialize(await cluster.Tenant(tenant).GetFailed()));
            responses.Add(JsonSerializer.Serialize(await cluster.Tenant(tenant).GetAttempts(100)));
            responses.Add(JsonSerializer.Serialize(await cluster.Tenant(tenant).GetEndpointStatus()));
        }

        var logs = cluster.SiloLogs;
        Assert.True(logs.Count > 100, $"only {logs.Count} records: is Trace on?");
        var texts = logs.Select(l => $"{l.Message} {l.Exception} {string.Join(",", l.StructuredState?.Select(s => s.Value) ?? [])}").Concat(responses).ToList();
        string[] secrets = [HeaderSecret, SigningKey, SigningKey[SigningSecret.Prefix.Length..], .. signatures, .. signatures.Select(s => s["v1,".Length..])];
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(texts, text => text.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Configuration_errors_name_the_field_and_never_the_value()
    {
        var message = await SiloHost.FailToStartAsync($$"""
            webhook:
              tenants:
                t1:
                  endpoint: https://hooks.example.com/in?token={{HeaderSecret}}x
                  secret: whsec_{{HeaderSecret}}
                  headers:
                    X-Api-Key: "{{HeaderSecret}}\u0001"
                t2:
                  endpoint: not-a-url?token={{HeaderSecret}}
            """);

        Assert.Contains("field 'secret'", message, StringComparison.Ordinal);
        Assert.Contains("field 'headers.X-Api-Key'", message, StringComparison.Ordinal);
        Assert.Contains("tenant 't2', field 'endpoint'", message, StringComparison.Ordinal);
        Assert.DoesNotContain(HeaderSecret, message, StringComparison.Ordinal);
    }
}
