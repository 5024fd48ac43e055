using StandardWebhooks;
using StandardWebhooks.Diagnostics;
using Webhooks.Security;
using Webhooks.Silo.Hosting;

namespace Webhooks.Tests;

/// <summary>Signed deliveries, checked with the StandardWebhooks package, an implementation we did not write.</summary>
public sealed class SignatureTests : IAsyncLifetime
{
    private static readonly string Current = SigningSecret.Generate();
    private static readonly string Previous = SigningSecret.Generate();
    private static readonly string Expired = SigningSecret.Generate();
    private readonly TempDirectory _files = new();
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.FailFirst("retried", 1);
        var secretFile = _files.Write("rotating.secret", Current + "\n");
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_SIGNED_SECRET", Current);
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_API_KEY", "key-from-the-environment");
        var tenants = $$"""
            webhook:
              tenants:
                signed:
                  endpoint: {{_receiver.EndpointFor("signed")}}
                  secret: ${env:WEBHOOKS_TEST_SIGNED_SECRET}
                  headers:
                    X-Api-Key: ${env:WEBHOOKS_TEST_API_KEY}
                retried:
                  endpoint: {{_receiver.EndpointFor("retried")}}
                  secret: {{Current}}
                  retry_schedule: [00:00:00.100]
                rotating:
                  endpoint: {{_receiver.EndpointFor("rotating")}}
                  secret: ${file:{{secretFile}}}
                  previous_secrets:
                    - secret: {{Previous}}
                      expires_at: 2999-01-01T00:00:00Z
                    - secret: {{Expired}}
                      expires_at: 2000-01-01T00:00:00Z
                unsigned:
                  endpoint: {{_receiver.EndpointFor("unsigned")}}
            """;
        _cluster = await WebhookCluster.StartAsync(new RawTenantsYaml(tenants));
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_SIGNED_SECRET", null);
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_API_KEY", null);
        _files.Dispose();
    }

    [Fact]
    public async Task A_tenant_with_a_secret_gets_deliveries_that_verify()
    {
        var id = await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("signed", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));

        var request = Assert.Single(await _receiver.WaitForAsync("signed", 1));
        Assert.Equal(id, request.Header("webhook-id"));
        Assert.InRange(long.Parse(request.Header("webhook-timestamp")!, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.StartsWith("v1,", request.Header("webhook-signature"), StringComparison.Ordinal);
        Verify(Current, request);
        Assert.Equal("key-from-the-environment", request.Header("X-Api-Key"));
        Assert.Throws<WebhookVerificationException>(() => Verify(SigningSecret.Generate(), request));
        Assert.Throws<WebhookVerificationException>(() => Verify(Current, request with { Body = request.Body.Replace("p1", "p2", StringComparison.Ordinal) }));
    }

    [Fact]
    public async Task A_retry_keeps_the_webhook_id_and_is_signed_afresh()
    {
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("retried", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));

        var requests = await _receiver.WaitForAsync("retried", 2);

        Assert.Equal(requests[0].Header("webhook-id"), requests[1].Header("webhook-id"));
        Assert.All(requests, request => Verify(Current, request));
    }

    [Fact]
    public async Task While_a_rotated_out_secret_has_not_expired_both_secrets_sign()
    {
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("rotating", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));

        var request = Assert.Single(await _receiver.WaitForAsync("rotating", 1));

        // StandardWebhooks 1.1.2 checks only the first signature of the header, so each is checked on its own.
        var signatures = request.Header("webhook-signature")!.Split(' ');
        Assert.Equal(2, signatures.Length);
        Verify(Current, WithSignature(request, signatures[0]));
        Verify(Previous, WithSignature(request, signatures[1]));
        Assert.All(signatures, signature => Assert.Throws<WebhookVerificationException>(() => Verify(Expired, WithSignature(request, signature))));
    }

    [Fact]
    public async Task A_tenant_without_a_secret_gets_no_signature_headers()
    {
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("unsigned", WebhookEventNames.PriceUpdated, new { price_id = "p1" }));

        var request = Assert.Single(await _receiver.WaitForAsync("unsigned", 1));

        Assert.Null(request.Header("webhook-signature"));
        Assert.Null(request.Header("webhook-id"));
    }

    [Fact]
    public async Task The_secret_command_prints_a_new_valid_secret()
    {
        using var output = new StringWriter();

        var exit = await SiloCommand.Create().Parse(["secret"]).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output });

        Assert.Equal(0, exit);
        var secret = output.ToString().Trim();
        Assert.Equal(32, SigningSecret.TryDecode(secret, out _)?.Length);
        Assert.NotEqual(secret, SigningSecret.Generate());
    }

    private static ReceivedRequest WithSignature(ReceivedRequest request, string signature) =>
        request with { Headers = new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase) { ["webhook-signature"] = signature } };

    private static void Verify(string secret, ReceivedRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        new StandardWebhook(secret).Verify(request.Body, headers);
    }
}
