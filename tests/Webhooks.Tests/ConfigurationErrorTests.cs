using System.Net.Sockets;

namespace Webhooks.Tests;

/// <summary>Each configuration error stops start-up with a message naming the file, the tenant and the field.</summary>
public sealed class ConfigurationErrorTests
{
    private static string Tenants(string tenantBody, string id = "t1") => $"""
        webhook:
          tenants:
            {id}:
        {tenantBody}
        """;

    [Fact]
    public async Task Malformed_tenants_yaml_names_the_file_and_the_position()
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(
            "webhook:\n  tenants:\n    t1: [unclosed\n      endpoint: x\n",
            arrange: files => path = SiloHost.TenantsPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains("malformed YAML", message, StringComparison.Ordinal);
        Assert.Contains("line 4, column", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_silo_yaml_names_the_file()
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(Tenants("      endpoint: http://127.0.0.1:1/h"), "delivery:\n  timeout: [\n", files => path = SiloHost.SiloPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains("malformed YAML", message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> TenantErrors => new()
    {
        // tenant body, field named, words of the problem
        { "      enabled: true", "endpoint", "required" },
        { "      endpoint: \"\"", "endpoint", "required" },
        { "      endpoint: /hooks/relative", "endpoint", "absolute http(s) URL" },
        { "      endpoint: ftp://example.com/hooks", "endpoint", "absolute http(s) URL" },
        { "      endpoint: not a url", "endpoint", "absolute http(s) URL" },
        { "      endpoint: https://user:pass@example.com/hooks", "endpoint", "credentials" },
        { "      endpoint: https://example.com/h\n      excluded_events: [price.created]", "excluded_events", "'price.created' is not a known event" },
        { "      endpoint: https://example.com/h\n      headers:\n        \"X Bad\": v", "headers.X Bad", "header name" },
        { "      endpoint: https://example.com/h\n      headers:\n        \"X-Bad\\u0007\": v", "headers.X-Bad\u0007", "header name" },
        { "      endpoint: https://example.com/h\n      headers:\n        X-Api-Key: \"line\\r\\nInjected: yes\"", "headers.X-Api-Key", "control characters" },
        { "      endpoint: https://example.com/h\n      headers:\n        Content-Type: text/plain", "headers.Content-Type", "set by the engine" },
        { "      endpoint: https://example.com/h\n      headers:\n        webhook-signature: forged", "headers.webhook-signature", "set by the engine" },
        { "      endpoint: https://example.com/h\n      headers:\n        Content-Length: \"12\"", "headers.Content-Length", "set by the engine" },
        { "      endpoint: https://example.com/h\n      headers:\n        Transfer-Encoding: chunked", "headers.Transfer-Encoding", "set by the engine" },
        { "      endpoint: https://example.com/h\n      headers:\n        transfer-encoding: chunked", "headers.transfer-encoding", "set by the engine" },
        { "      endpoint: https://example.com/h\n      excluded_event: [usage.recorded]", "excluded_event", "not a known setting" },
        { "      endpoint: https://example.com/h\n      enabled: maybe", "enabled", "wrong type" },
        { "      endpoint: https://example.com/h\n      previous_secrets:\n        - secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n          expires_at: 2999-01-01T00:00:00Z", "previous_secrets", "needs a current 'secret'" },
        { "      endpoint: https://example.com/h\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      previous_secrets:\n        - expires_at: 2999-01-01T00:00:00Z", "previous_secrets.0.secret", "is required" },

        // The binder passes these over without a word; each would quietly drop an exclusion, a header, a retry or a secret.
        { "      endpoint: https://example.com/h\n      excluded_events: usage.recorded", "excluded_events", "must be a list, not a single value" },
        { "      endpoint: https://example.com/h\n      headers: \"X-Api-Key: abc\"", "headers", "must be a map, not a single value" },
        { "      endpoint: https://example.com/h\n      headers:\n        X-Api-Key:\n          nested: abc", "headers.X-Api-Key", "must be a single value" },
        { "      endpoint: https://example.com/h\n      retry_schedule: [5m, 10m]", "retry_schedule.0", "is not a duration" },
        { "      endpoint: https://example.com/h\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      previous_secrets: whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "previous_secrets", "must be a list, not a single value" },
        { "      endpoint: https://example.com/h\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      previous_secrets:\n        - secret: whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n          expires_at: next tuesday", "previous_secrets.0.expires_at", "wrong type" },
        { "      endpoint: https://example.com/h\n      secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n      previous_secrets:\n        - whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "previous_secrets.0", "must be a map of settings" },
    };

    [Theory]
    [InlineData("api:\n  keys: [publisher-key-0123456789]\n  admin_keys: admin-key-0123456789abcdef\n", "api.admin_keys", "admin-key-0123456789abcdef")]
    [InlineData("security:\n  allowed_networks: 10.0.0.0/8\n", "security.allowed_networks", "10.0.0.0/8")]
    [InlineData("delivery:\n  retry_schedule: 00:00:05\n", "delivery.retry_schedule", "00:00:05")]
    public async Task A_list_given_as_a_single_value_is_refused_without_repeating_it(string siloYaml, string field, string value)
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(Tenants("      endpoint: http://127.0.0.1:1/h"), siloYaml, files => path = SiloHost.SiloPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains($"field '{field}' must be a list, not a single value", message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TenantErrors))]
    public async Task A_bad_tenant_entry_names_the_file_the_tenant_and_the_field(string tenantBody, string field, string problem)
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(Tenants(tenantBody, "tenant-7"), arrange: files => path = SiloHost.TenantsPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains("tenant-7", message, StringComparison.Ordinal);
        Assert.Contains(field, message, StringComparison.Ordinal);
        Assert.Contains(problem, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://deploy:S3cretPassw0rd@hooks.example.com:99999/in", "https://…@hooks.example.com:99999/in", "S3cretPassw0rd")]
    [InlineData("https://hooks.example.com:99999/in?token=S3cretT0ken", "https://hooks.example.com:99999/in", "S3cretT0ken")]
    [InlineData("https://hooks.example.com:99999/in#S3cretFragment", "https://hooks.example.com:99999/in", "S3cretFragment")]
    public async Task An_endpoint_error_shows_the_url_without_its_credentials_or_query(string endpoint, string shown, string secret)
    {
        var message = await SiloHost.FailToStartAsync(Tenants($"      endpoint: \"{endpoint}\""));

        Assert.Contains($"'{shown}' is not an absolute http(s) URL", message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_header_value_error_never_repeats_the_value()
    {
        var message = await SiloHost.FailToStartAsync(Tenants("      endpoint: https://example.com/h\n      headers:\n        X-Api-Key: \"sk_live_secret\\u0000\""));

        Assert.Contains("headers.X-Api-Key", message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk_live_secret", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_tenant_id_is_refused()
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(Tenants("      endpoint: https://example.com/h", id: "\"\""), arrange: files => path = SiloHost.TenantsPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains("tenant id", message, StringComparison.Ordinal);
        Assert.Contains("empty", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_webhook_setting_is_refused()
    {
        var message = await SiloHost.FailToStartAsync("webhook:\n  enable: true\n  tenants: {}\n");

        Assert.Contains("webhook.enable", message, StringComparison.Ordinal);
        Assert.Contains("not a known setting", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("delivery:\n  timeout: -00:00:01\n", "delivery.timeout")]
    [InlineData("delivery:\n  max_concurrency: 0\n", "delivery.max_concurrency")]
    [InlineData("delivery:\n  buffer_size: 0\n", "delivery.buffer_size")]
    [InlineData("delivery:\n  timeout: soon\n", "delivery.timeout")]
    [InlineData("delivery:\n  timeout: 00:00:1x\n", "delivery.timeout")]
    [InlineData("development:\n  receiver: sometimes\n", "development.receiver")]
    [InlineData("observability:\n  otlp_endpoint: not-a-url\n", "observability.otlp_endpoint")]
    [InlineData("ingest:\n  max_json_depth: 65\n", "ingest.max_json_depth")]
    [InlineData("observability:\n  otlp_endpoint: localhost:4317\n", "observability.otlp_endpoint")]
    [InlineData("ingest:\n  stream_poll_interval: 00:00:05\n", "ingest.stream_poll_interval")]
    [InlineData("ingest:\n  stream_poll_interval: often\n", "ingest.stream_poll_interval")]
    public async Task A_bad_silo_setting_names_silo_yaml_and_the_field(string siloYaml, string field)
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", siloYaml, files => path = SiloHost.SiloPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains(field, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_error_is_reported_at_once()
    {
        var message = await SiloHost.FailToStartAsync("""
            webhook:
              tenants:
                a:
                  enabled: true
                b:
                  endpoint: ftp://x
            """);

        Assert.Contains("tenant 'a', field 'endpoint'", message, StringComparison.Ordinal);
        Assert.Contains("tenant 'b', field 'endpoint'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_named_file_that_does_not_exist_is_an_error()
    {
        string? path = null;
        var message = await SiloHost.FailToStartAsync(tenantsYaml: null, arrange: files => path = SiloHost.TenantsPath(files));

        Assert.Contains(path!, message, StringComparison.Ordinal);
        Assert.Contains("not found", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silo_with_bad_configuration_never_serves()
    {
        var address = SiloHost.ReserveAddress();

        await Assert.ThrowsAnyAsync<Exception>(() => SiloHost.StartAsync(Tenants("      enabled: true"), address: address));

        using var client = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(address.Host, address.Port));
    }
}
