using Microsoft.Extensions.Logging.Testing;
using Webhooks.Security;
using Webhooks.Silo.Hosting;

namespace Webhooks.Tests;

/// <summary>
/// With logging at Trace, no secret reaches the logs when start-up fails on a secret-bearing field, nor when a hot
/// reload of <c>tenants.yaml</c> carrying secrets is rejected.
/// </summary>
public sealed class SecretsInErrorLogsTests
{
    // Plain values that stand for secrets; each is unique, so that finding it anywhere is a leak.
    private const string MalformedSecretBody = "malformedsigningkey7d41c9";
    private const string BadHeaderValue = "bad-header-value-2b9e61f0";
    private const string GoodHeaderValue = "good-header-value-c4a7e312";
    private const string EndpointToken = "endpoint-token-9f13d6a2";
    private const string FileHeldValue = "value-held-in-a-file-81c2aa";
    private static readonly string GoodSigningKey = SigningSecret.Generate();

    [Fact]
    public async Task A_start_up_refused_for_secret_bearing_fields_logs_no_secret_at_trace()
    {
        using var secretFiles = new TempDirectory();
        var malformedSecretFile = secretFiles.Write("malformed.secret", $"whsec_{FileHeldValue}\n");
        var missingFile = Path.Combine(secretFiles.Path, "absent.key");
        var tenants = $$"""
            webhook:
              tenants:
                bad:
                  endpoint: https://hooks.example.com/in
                  secret: whsec_{{MalformedSecretBody}}
                  headers:
                    X-Api-Key: "{{BadHeaderValue}}\u0001"
                    Authorization: "${file:{{missingFile}}}"
                from-file:
                  endpoint: https://hooks.example.com/in
                  secret: "${file:{{malformedSecretFile}}}"
                good:
                  endpoint: https://hooks.example.com/in
                  secret: {{GoodSigningKey}}
                  headers:
                    X-Token: {{GoodHeaderValue}}
                broken-endpoint:
                  endpoint: not-a-url?token={{EndpointToken}}
            """;
        using var files = new TempDirectory();
        files.Write("silo.yaml", "");
        files.Write("tenants.yaml", tenants);
        var logs = new FakeLogCollector();

        Exception? error;
        await using (var app = BuildAtTrace(files))
        {
            app.Services.GetRequiredService<ILoggerFactory>().AddProvider(new FakeLoggerProvider(logs));
            error = await Record.ExceptionAsync(() => app.StartAsync());
        }

        Assert.NotNull(error);
        var message = StartupError.Describe(error);
        Assert.NotNull(message);
        Assert.Contains("tenant 'bad', field 'secret'", message, StringComparison.Ordinal);
        Assert.Contains("tenant 'bad', field 'headers.X-Api-Key'", message, StringComparison.Ordinal);
        Assert.Contains("tenant 'bad', field 'headers.Authorization'", message, StringComparison.Ordinal);
        Assert.Contains(missingFile, message, StringComparison.Ordinal);
        Assert.Contains("tenant 'from-file', field 'secret'", message, StringComparison.Ordinal);
        Assert.Contains("tenant 'broken-endpoint', field 'endpoint'", message, StringComparison.Ordinal);

        var records = logs.GetSnapshot();

        // Trace is on, and the host reported the failure, exception and all.
        Assert.Contains(records, r => r.Level == LogLevel.Error && r.Exception is not null);
        Assert.Contains(records, r => r.Level == LogLevel.Trace);
        var texts = Texts(records).ToList();

        // The failure itself reached the logs, so the search below covers it.
        Assert.Contains(texts, text => text.Contains("tenant 'bad', field 'secret'", StringComparison.Ordinal));
        texts.Add(error.ToString());
        AssertNoSecret(texts, MalformedSecretBody, BadHeaderValue, GoodHeaderValue, EndpointToken, FileHeldValue, GoodSigningKey, GoodSigningKey[SigningSecret.Prefix.Length..]);
    }

    [Fact]
    public async Task A_rejected_reload_carrying_secrets_logs_no_secret_at_trace()
    {
        const string NewcomerHeaderValue = "newcomer-header-value-5e0b77";
        const string UnclosedHeaderValue = "unclosed-header-value-3d8a14";
        var newcomerKey = SigningSecret.Generate();
        using var secretFiles = new TempDirectory();
        var missingFile = Path.Combine(secretFiles.Path, "absent.key");
        await using var receiver = await WebhookReceiver.StartAsync();
        var good = $$"""
            webhook:
              tenants:
                acme:
                  endpoint: {{receiver.EndpointFor("acme")}}
                  secret: {{GoodSigningKey}}
                  headers:
                    X-Api-Key: {{GoodHeaderValue}}
            """;
        await using var cluster = await WebhookCluster.StartAsync(new RawTenantsYaml(good), logLevel: LogLevel.Trace);
        var first = await cluster.ClientPublisher.PublishAsync(Event());
        Assert.Equal(first, Assert.Single(await receiver.WaitForAsync("acme", 1)).EventId);

        // An edit with a malformed secret, a header value with a control character, an unreadable file, and a valid
        // newcomer: all of it is refused together.
        await File.WriteAllTextAsync(cluster.TenantsPath, $$"""
            webhook:
              tenants:
                acme:
                  endpoint: {{receiver.EndpointFor("acme")}}
                  secret: whsec_{{MalformedSecretBody}}
                  headers:
                    X-Api-Key: "{{BadHeaderValue}}\u0001"
                    Authorization: "${file:{{missingFile}}}"
                newcomer:
                  endpoint: {{receiver.EndpointFor("newcomer")}}
                  secret: {{newcomerKey}}
                  headers:
                    X-Api-Key: {{NewcomerHeaderValue}}
            """);
        await Eventually.Until(
            () => Task.FromResult(Rejections(cluster).ToList()),
            rejected => rejected.Any(m => m.Contains("tenant 'acme', field 'secret'", StringComparison.Ordinal))
                && rejected.Any(m => m.Contains("tenant 'acme', field 'headers.X-Api-Key'", StringComparison.Ordinal))
                && rejected.Any(m => m.Contains("tenant 'acme', field 'headers.Authorization'", StringComparison.Ordinal) && m.Contains(missingFile, StringComparison.Ordinal)),
            "the edit to be rejected naming each field");

        // An edit that does not parse, its broken line holding a secret.
        var malformedSeen = Rejections(cluster).Count(m => m.Contains("malformed YAML", StringComparison.Ordinal));
        await File.WriteAllTextAsync(cluster.TenantsPath, $$"""
            webhook:
              tenants:
                acme:
                  endpoint: {{receiver.EndpointFor("acme")}}
                  headers:
                    X-Api-Key: "{{UnclosedHeaderValue}}
            """);
        await Eventually.Until(
            () => Task.FromResult(Rejections(cluster).Count(m => m.Contains("malformed YAML", StringComparison.Ordinal)) > malformedSeen),
            "the malformed edit to be rejected");

        // The last good configuration, secrets included, stays in force.
        var second = await cluster.ClientPublisher.PublishAsync(Event());
        var delivered = await receiver.WaitForAsync("acme", 2);
        Assert.Equal([first, second], delivered.Select(r => r.EventId));
        Assert.All(delivered, r => Assert.Equal(GoodHeaderValue, r.Header("X-Api-Key")));
        Assert.All(delivered, r => new StandardWebhooks.StandardWebhook(GoodSigningKey).Verify(r.Body, Headers(r)));
        Assert.All(cluster.Cluster.Silos, silo => Assert.Null(silo.ServiceProvider.GetRequiredService<Webhooks.Configuration.WebhookSettingsMonitor>().Current.Find("newcomer")));

        // Every log of both deliveries is written before the logs are searched.
        await Eventually.Until(() => cluster.Tenant("acme").GetStats(), s => s.Delivered == 2 && s.InFlight == 0, "both deliveries to finish");
        var records = cluster.SiloLogs;
        Assert.Contains(records, r => r.Level == LogLevel.Trace);
        var signatures = delivered.Select(r => r.Header("webhook-signature")!).ToList();
        AssertNoSecret(
            Texts(records).ToList(),
            [MalformedSecretBody, BadHeaderValue, GoodHeaderValue, UnclosedHeaderValue, NewcomerHeaderValue, newcomerKey, newcomerKey[SigningSecret.Prefix.Length..],
             GoodSigningKey, GoodSigningKey[SigningSecret.Prefix.Length..], .. signatures, .. signatures.Select(s => s["v1,".Length..])]);
    }

    // The runnable silo with every category at Trace, the console quiet, and the host's own failure report kept.
    private static WebApplication BuildAtTrace(TempDirectory files)
    {
        string[] args =
        [
            "--silo-config", SiloHost.SiloPath(files),
            "--tenants-config", SiloHost.TenantsPath(files),
            "--urls", SiloHost.ReserveAddress().ToString(),
            $"--orleans:silo_port={FreePorts.Next()}",
            $"--orleans:gateway_port={FreePorts.Next()}",
            "--Logging:LogLevel:Default=Trace",
            "--Logging:LogLevel:Orleans=Trace",
            "--Logging:LogLevel:Microsoft=Trace",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Trace",
            "--Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host=Trace",
            "--Logging:LogLevel:Polly=Trace",
            "--Logging:Console:LogLevel:Default=None",
        ];
        return SiloApplication.Build(SiloCommand.ToStartup(SiloCommand.Create().Parse(args)));
    }

    private static IEnumerable<string> Rejections(WebhookCluster cluster) =>
        cluster.SiloLogs.Where(l => l.Level == LogLevel.Error && l.Message.Contains("rejected", StringComparison.Ordinal)).Select(l => l.Message);

    private static IEnumerable<string> Texts(IEnumerable<FakeLogRecord> records) =>
        records.Select(l => $"{l.Category} {l.Message} {l.Exception} {string.Join(",", l.StructuredState?.Select(s => s.Value) ?? [])}");

    private static void AssertNoSecret(IReadOnlyList<string> texts, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            var leak = texts.FirstOrDefault(text => text.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak is null, $"a secret reached the logs: {leak}");
        }
    }

    private static HeaderDictionary Headers(ReceivedRequest request)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        return headers;
    }

    private static WebhookEvent Event() => WebhookEvent.Create("acme", WebhookEventNames.PriceUpdated, new { price_id = "p" });
}
