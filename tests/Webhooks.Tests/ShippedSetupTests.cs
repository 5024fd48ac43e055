using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;

namespace Webhooks.Tests;

/// <summary>
/// The repository's own <c>silo.yaml</c> and <c>tenants.yaml</c> are a working development setup: the README's
/// quickstart <c>curl</c> is accepted, and the delivery shows up at the silo's development receiver with the body and
/// headers the README describes. Only the addresses change, so that the test runs beside anything else on the machine.
/// </summary>
public sealed class ShippedSetupTests
{
    // The address the shipped files use; the test silo listens on a free port instead.
    private const string ShippedAddress = "http://127.0.0.1:5080";

    // The README's quickstart request body, as written there.
    private const string QuickstartBody = """{"tenant_id":"tenant1","event_name":"price.updated","payload":{"price_id":"price_123","amount":1999}}""";

    [Fact]
    public async Task The_readme_quickstart_on_the_shipped_files_delivers_to_the_development_receiver()
    {
        var root = RepositoryRoot();
        var siloYaml = await File.ReadAllTextAsync(Path.Combine(root, "silo.yaml"));
        var shippedTenants = await File.ReadAllTextAsync(Path.Combine(root, "tenants.yaml"));
        Assert.Contains($"endpoint: {ShippedAddress}/dev/receiver/tenant1", shippedTenants, StringComparison.Ordinal);
        Assert.Contains($"urls: {ShippedAddress}", siloYaml, StringComparison.Ordinal);

        var address = SiloHost.ReserveAddress();
        var authority = address.Authority;
        var tenantsYaml = shippedTenants.Replace(ShippedAddress, $"http://{authority}", StringComparison.Ordinal);

        // The test host quiets the silo to Warning; the shipped silo.yaml logs at Information, which the README relies on.
        await using var silo = await SiloHost.StartAsync(tenantsYaml, siloYaml, address, "--Logging:LogLevel:Default=Information");
        var logs = new FakeLogCollector();
        silo.Services.GetRequiredService<ILoggerFactory>().AddProvider(new FakeLoggerProvider(logs));

        // curl -i http://127.0.0.1:5080/v1/events -H 'Content-Type: application/json' -d '...'
        var accepted = await silo.Http.PostAsync("/v1/events", new StringContent(QuickstartBody, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var acceptedBody = await accepted.Content.ReadAsStringAsync();
        var id = JsonDocument.Parse(acceptedBody).RootElement.GetProperty("id").GetString()!;
        Assert.True(Guid.TryParse(id, out _), $"'{id}' is not a UUID");
        Assert.Equal($$"""{"id":"{{id}}"}""", acceptedBody);

        // What the README says is kept back: tenant1 excludes usage.recorded, and tenant2 is disabled.
        var excluded = await PublishAsync(silo, """{"tenant_id":"tenant1","event_name":"usage.recorded","payload":{"customer_id":"cus_1"}}""");
        var disabled = await PublishAsync(silo, """{"tenant_id":"tenant2","event_name":"price.updated","payload":{"price_id":"price_123"}}""");

        // curl -s http://127.0.0.1:5080/dev/receiver
        var received = await Eventually.Until(
            () => silo.Http.GetFromJsonAsync<JsonElement>("/dev/receiver"),
            list => list.GetArrayLength() > 0,
            "the delivery to show at /dev/receiver");
        var filteredExcluded = await WaitForLogAsync(logs, r => r.Message.Contains(excluded, StringComparison.Ordinal), "the excluded event's log line");
        var filteredDisabled = await WaitForLogAsync(logs, r => r.Message.Contains(disabled, StringComparison.Ordinal), "the disabled tenant's log line");
        var receiverLog = await WaitForLogAsync(logs, r => r.Message.StartsWith("Development receiver got", StringComparison.Ordinal), "the development receiver's log line");

        // Both kept-back events were judged before this read, so a delivery of either would already show here.
        received = await silo.Http.GetFromJsonAsync<JsonElement>("/dev/receiver");
        var delivery = Assert.Single(received.EnumerateArray());
        Assert.Equal(["received_at", "path", "headers", "body"], delivery.EnumerateObject().Select(p => p.Name));
        Assert.Equal("/tenant1", delivery.GetProperty("path").GetString());

        var body = delivery.GetProperty("body");
        Assert.Equal(["id", "event_name", "timestamp", "tenant_id", "payload"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(id, body.GetProperty("id").GetString());
        Assert.Equal("price.updated", body.GetProperty("event_name").GetString());
        Assert.Equal("tenant1", body.GetProperty("tenant_id").GetString());
        Assert.Equal("""{"price_id":"price_123","amount":1999}""", body.GetProperty("payload").GetRawText());
        var timestamp = body.GetProperty("timestamp").GetString()!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", timestamp);
        var receivedAt = delivery.GetProperty("received_at").GetDateTimeOffset();
        Assert.InRange(DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture), receivedAt.AddMinutes(-1), receivedAt);

        // The headers the README promises: Content-Type, the tenant's X-Api-Key (shown redacted), and nothing unexpected.
        var headers = delivery.GetProperty("headers").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.OrdinalIgnoreCase);
        var wireBody = body.GetRawText();
        Assert.Equal(
            ["Content-Length", "Content-Type", "Host", "traceparent", "User-Agent", "X-Api-Key"],
            headers.Keys.Order(StringComparer.OrdinalIgnoreCase));
        Assert.Equal(authority, headers["Host"]);
        Assert.Equal("application/json", headers["Content-Type"]);
        Assert.Equal(Encoding.UTF8.GetByteCount(wireBody).ToString(CultureInfo.InvariantCulture), headers["Content-Length"]);
        Assert.Equal("Webhooks.Orleans/0.1", headers["User-Agent"]);
        Assert.Equal("[redacted]", headers["X-Api-Key"]);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$", headers["traceparent"]);

        // The silo's log says what arrived, and why the other two did not.
        Assert.Equal(LogLevel.Information, receiverLog.Level);
        Assert.Equal($"Development receiver got price.updated {id} for tenant tenant1 at /tenant1: {wireBody}", receiverLog.Message);
        AssertFiltered(filteredExcluded, "tenant1", excluded, "usage.recorded", FilterReasons.EventExcluded);
        AssertFiltered(filteredDisabled, "tenant2", disabled, "price.updated", FilterReasons.TenantDisabled);
    }

    private static void AssertFiltered(FakeLogRecord record, string tenant, string eventId, string eventName, string reason)
    {
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Equal(
            $"Event {eventId} ({eventName}) for tenant {tenant} not delivered: {reason}; further events kept back for this reason are logged at Debug",
            record.Message);
        Assert.Equal(tenant, record.GetStructuredStateValue("TenantId"));
        Assert.Equal(eventId, record.GetStructuredStateValue("EventId"));
        Assert.Equal(reason, record.GetStructuredStateValue("Reason"));
    }

    private static async Task<string> PublishAsync(SiloHost silo, string json)
    {
        var response = await silo.Http.PostAsync("/v1/events", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<FakeLogRecord> WaitForLogAsync(FakeLogCollector logs, Func<FakeLogRecord, bool> match, string what) =>
        (await Eventually.Until(() => Task.FromResult(logs.GetSnapshot().FirstOrDefault(match)), record => record is not null, what))!;

    // The folder that holds the solution, found from where the tests run.
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Webhooks.Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Webhooks.Orleans.sln above {AppContext.BaseDirectory}");
    }
}
