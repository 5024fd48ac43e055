using System.Net;
using System.Text;

namespace Webhooks.Tests;

/// <summary>
/// A running silo whose tenant header value and API key are read from files with <c>${file:PATH}</c>; its health
/// probes stay open while <c>/v1</c> needs a key.
/// </summary>
public sealed class SecretFromFileTests : IAsyncLifetime
{
    private const string HeaderValue = "header-from-a-file-5a1d07";
    private const string ApiKey = "api-key-from-a-file-0b6e93c1";
    private readonly TempDirectory _secrets = new();
    private WebhookReceiver _receiver = null!;
    private SiloHost _silo = null!;

    public async Task InitializeAsync()
    {
        var headerFile = _secrets.Write("header.value", HeaderValue + "\n");
        var keyFile = _secrets.Write("api.key", ApiKey + "\r\n");
        _receiver = await WebhookReceiver.StartAsync();
        _silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("acme", _receiver.EndpointFor("acme"), new Dictionary<string, string> { ["X-Api-Key"] = $"${{file:{headerFile}}}" }).ToString(),
            $"api:\n  keys: [\"${{file:{keyFile}}}\"]\n");
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _silo.DisposeAsync();
        _secrets.Dispose();
    }

    [Fact]
    public async Task A_header_value_read_from_a_file_is_sent_without_its_line_break()
    {
        var response = await PublishAsync($"Bearer {ApiKey}");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var delivered = Assert.Single(await _receiver.WaitForAsync("acme", 1));
        Assert.Equal(HeaderValue, delivered.Header("X-Api-Key"));
    }

    [Fact]
    public async Task An_api_key_read_from_a_file_is_accepted_and_nothing_else_is()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PublishAsync($"Bearer {ApiKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PublishAsync(null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PublishAsync($"Bearer {ApiKey}x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PublishAsync($"Bearer ${{file:{Path.Combine(_secrets.Path, "api.key")}}}")).StatusCode);

        Assert.Single(await _receiver.WaitForAsync("acme", 1));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Health_probes_answer_without_a_key_while_v1_needs_one(string probe)
    {
        var response = await _silo.Http.GetAsync(probe);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await _silo.Http.GetAsync("/v1/tenants/acme/status")).StatusCode);
    }

    private Task<HttpResponseMessage> PublishAsync(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events")
        {
            Content = new StringContent("""{"tenant_id":"acme","event_name":"price.updated","payload":{"price_id":"p"}}""", Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return _silo.Http.SendAsync(request);
    }
}

/// <summary>
/// A <c>${file:…}</c> or <c>${env:…}</c> reference that cannot be resolved stops start-up, naming the file, tenant and
/// field, and never a secret.
/// </summary>
public sealed class SecretReferenceErrorTests
{
    private const string PlainHeaderSecret = "plain-header-secret-6c3f90";
    private const string FileHeldSecretBody = "heldinthefile0d5b72";
    private const string PlainApiKey = "plain-api-key-7e21c4a9f0";

    [Fact]
    public async Task An_unresolvable_file_reference_in_tenants_yaml_names_the_file_tenant_and_field_and_never_a_secret()
    {
        using var secrets = new TempDirectory();
        var absent = Path.Combine(secrets.Path, "absent.key");
        var empty = secrets.Write("empty.secret", "");
        var malformed = secrets.Write("malformed.secret", $"whsec_{FileHeldSecretBody}\n");
        string? tenantsPath = null;
        var message = await SiloHost.FailToStartAsync(
            $$"""
            webhook:
              tenants:
                from-files:
                  endpoint: https://hooks.example.com/in
                  secret: "${file:{{empty}}}"
                  headers:
                    X-Api-Key: "${file:{{absent}}}"
                    Authorization: "Bearer {{PlainHeaderSecret}}"
                malformed-file:
                  endpoint: https://hooks.example.com/in
                  secret: "${file:{{malformed}}}"
            """,
            arrange: files => tenantsPath = SiloHost.TenantsPath(files));

        var lines = message.Split(Environment.NewLine);
        Assert.Contains(lines, line => line.Contains(tenantsPath!, StringComparison.Ordinal)
            && line.Contains("tenant 'from-files', field 'headers.X-Api-Key'", StringComparison.Ordinal)
            && line.Contains($"file '{absent}'", StringComparison.Ordinal)
            && line.Contains("cannot be read", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(tenantsPath!, StringComparison.Ordinal)
            && line.Contains("tenant 'from-files', field 'secret'", StringComparison.Ordinal)
            && line.Contains($"file '{empty}'", StringComparison.Ordinal)
            && line.Contains("is empty", StringComparison.Ordinal));

        // A file that reads but holds no valid signing secret is named by its field, its content never shown.
        Assert.Contains(lines, line => line.Contains("tenant 'malformed-file', field 'secret'", StringComparison.Ordinal));
        Assert.DoesNotContain(FileHeldSecretBody, message, StringComparison.Ordinal);
        Assert.DoesNotContain(PlainHeaderSecret, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unresolvable_file_reference_in_api_keys_names_silo_yaml_and_the_field_and_never_a_key()
    {
        using var secrets = new TempDirectory();
        var absent = Path.Combine(secrets.Path, "absent.key");
        string? siloPath = null;
        var message = await SiloHost.FailToStartAsync(
            "webhook:\n  tenants: {}\n",
            $"api:\n  keys: [\"{PlainApiKey}\", \"${{file:{absent}}}\"]\n",
            files => siloPath = SiloHost.SiloPath(files));

        var line = Assert.Single(message.Split(Environment.NewLine), l => l.Contains("api.keys", StringComparison.Ordinal));
        Assert.Contains(siloPath!, line, StringComparison.Ordinal);
        Assert.Contains("field 'api.keys.1'", line, StringComparison.Ordinal);
        Assert.Contains($"file '{absent}'", line, StringComparison.Ordinal);
        Assert.DoesNotContain(PlainApiKey, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unset_environment_variable_names_the_tenant_and_the_field()
    {
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_UNSET_HEADER_VALUE", null);
        Environment.SetEnvironmentVariable("WEBHOOKS_TEST_UNSET_SIGNING_SECRET", null);
        string? tenantsPath = null;
        var message = await SiloHost.FailToStartAsync(
            """
            webhook:
              tenants:
                env-tenant:
                  endpoint: https://hooks.example.com/in
                  secret: "${env:WEBHOOKS_TEST_UNSET_SIGNING_SECRET}"
                  headers:
                    X-Api-Key: "${env:WEBHOOKS_TEST_UNSET_HEADER_VALUE}"
            """,
            arrange: files => tenantsPath = SiloHost.TenantsPath(files));

        var lines = message.Split(Environment.NewLine);
        Assert.Contains(lines, line => line.Contains(tenantsPath!, StringComparison.Ordinal)
            && line.Contains("tenant 'env-tenant', field 'headers.X-Api-Key'", StringComparison.Ordinal)
            && line.Contains("environment variable 'WEBHOOKS_TEST_UNSET_HEADER_VALUE'", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(tenantsPath!, StringComparison.Ordinal)
            && line.Contains("tenant 'env-tenant', field 'secret'", StringComparison.Ordinal)
            && line.Contains("environment variable 'WEBHOOKS_TEST_UNSET_SIGNING_SECRET'", StringComparison.Ordinal));
    }
}
