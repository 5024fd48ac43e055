using System.Net;
using System.Text;

namespace Webhooks.Tests;

/// <summary>
/// With Redis storage, what the silo acknowledged survives the silo: killed outright, or stopped, then started again,
/// it delivers every pending event.
/// </summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private const string Tenant = "durable";
    private readonly TempDirectory _files = new();
    private RedisServer _redis = null!;
    private WebhookReceiver _receiver = null!;
    private string _siloYaml = "";
    private string _tenantsYaml = "";

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _receiver = await WebhookReceiver.StartAsync();
        _siloYaml = _files.Write("silo.yaml", $"""
            orleans:
              cluster_id: durability-tests
              service_id: durability-tests
            delivery:
              timeout: 00:00:30
              max_concurrency: 2
              retry_schedule: [00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02, 00:00:02]
            security:
              allowed_networks: [127.0.0.0/8]
            storage:
              provider: redis
              redis: {_redis.ConnectionString}
              wake_period: 00:00:01
            Logging:
              LogLevel:
                Default: Warning
            """);
        _tenantsYaml = _files.Write("tenants.yaml", new TenantsYaml().Tenant(Tenant, _receiver.EndpointFor(Tenant)).ToString());
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _redis.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Pending_retries_survive_a_killed_silo_and_every_event_is_delivered_after_restart()
    {
        _receiver.RespondWith(Tenant, HttpStatusCode.InternalServerError);
        var ids = new List<string>();
        await using (var silo = await StartSiloAsync())
        {
            for (var i = 0; i < 20; i++)
            {
                ids.Add(await PublishAsync(silo, i));
            }

            // Every event has failed at least once and waits for a retry when the process is killed.
            await _receiver.WaitUntilAsync(
                () => _receiver.RequestsFor(Tenant).Select(r => r.EventId).Distinct().Count(),
                count => count == 20,
                "a failed attempt for each of the 20 events");
            await silo.KillAsync();
        }

        _receiver.RespondWith(Tenant, HttpStatusCode.OK);
        await using var restarted = await StartSiloAsync();

        var delivered = await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor(Tenant), s => s.Count == 20, "all 20 events delivered after the restart", TimeSpan.FromSeconds(90));
        Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Keys.Order(StringComparer.Ordinal));
        Assert.All(delivered.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task An_acknowledged_event_is_stored_before_the_answer()
    {
        _receiver.Hang(Tenant);
        var ids = new List<string>();
        await using (var silo = await StartSiloAsync())
        {
            for (var i = 0; i < 5; i++)
            {
                ids.Add(await PublishAsync(silo, i));
            }

            await silo.KillAsync();
        }

        _receiver.RespondWith(Tenant, HttpStatusCode.OK);
        await using var restarted = await StartSiloAsync();

        var delivered = await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor(Tenant), s => s.Count == 5, "all 5 acknowledged events delivered after the restart", TimeSpan.FromSeconds(90));
        Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Keys.Order(StringComparer.Ordinal));

        // The idempotency window outlives the process as well: the repeat is acknowledged and not delivered. A fresh
        // event published after it is delivered after it would have been, as deliveries leave in order.
        Assert.Equal(ids[0], await PublishAsync(restarted, 0, ids[0]));
        var fresh = await PublishAsync(restarted, 5);
        await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor(Tenant), s => s.ContainsKey(fresh), "the fresh event");
        Assert.Equal(1, _receiver.RequestsFor(Tenant).Count(r => r.EventId == ids[0] && r.AnsweredWith == 200));
    }

    [Fact]
    public async Task A_graceful_stop_finishes_the_deliveries_in_flight_and_stores_the_rest()
    {
        _receiver.AnswerAfter(Tenant, TimeSpan.FromSeconds(1));
        var ids = new List<string>();
        await using (var silo = await StartSiloAsync())
        {
            for (var i = 0; i < 6; i++)
            {
                ids.Add(await PublishAsync(silo, i));
            }

            await _receiver.WaitUntilAsync(() => _receiver.OpenRequests(Tenant), open => open == 2, "two deliveries in flight");
            var exitCode = await silo.TerminateAsync(TimeSpan.FromSeconds(60));
            Assert.True(exitCode == 0, $"exit code {exitCode}:{Environment.NewLine}{silo.Output}");
        }

        // The two in flight were answered before the silo exited; the other four were stored and resume on restart.
        var beforeRestart = _receiver.SuccessesFor(Tenant);
        Assert.True(beforeRestart.Count >= 2, $"{beforeRestart.Count} delivered before the stop completed");
        _receiver.RespondWith(Tenant, HttpStatusCode.OK);
        await using var restarted = await StartSiloAsync();

        var delivered = await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor(Tenant), s => s.Count == 6, "all 6 events delivered", TimeSpan.FromSeconds(90));
        Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Keys.Order(StringComparer.Ordinal));
        Assert.All(delivered.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task An_outcome_that_lands_while_a_stopping_silo_waits_for_another_delivery_is_not_sent_again()
    {
        // A delivery that hangs longer than the silo waits at a stop, beside one that succeeds during the wait.
        var siloYaml = _files.Write("silo-long-timeout.yaml", File.ReadAllText(_siloYaml).Replace("timeout: 00:00:30", "timeout: 00:10:00", StringComparison.Ordinal));
        string hung, landed;
        await using (var silo = await SiloProcess.StartAsync(siloYaml, _tenantsYaml, SiloHost.ReserveAddress()))
        {
            _receiver.Hang(Tenant);
            hung = await PublishAsync(silo, 0);
            await _receiver.WaitUntilAsync(() => _receiver.OpenRequests(Tenant), open => open == 1, "the first delivery to hang");
            _receiver.AnswerAfter(Tenant, TimeSpan.FromSeconds(3));
            landed = await PublishAsync(silo, 1);
            await _receiver.WaitUntilAsync(() => _receiver.OpenRequests(Tenant), open => open == 2, "the second delivery to be out");
            await silo.TerminateAsync(TimeSpan.FromMinutes(3));
        }

        Assert.Equal(1, _receiver.SuccessesFor(Tenant).GetValueOrDefault(landed));
        _receiver.RespondWith(Tenant, HttpStatusCode.OK);
        await using var restarted = await StartSiloAsync();

        // The hung delivery is sent again, and one published after the restart follows it; the landed one is not.
        var later = await PublishAsync(restarted, 2);
        await _receiver.WaitUntilAsync(() => _receiver.SuccessesFor(Tenant), s => s.ContainsKey(hung) && s.ContainsKey(later), "the hung and the later event", TimeSpan.FromSeconds(90));
        Assert.Equal(1, _receiver.SuccessesFor(Tenant)[landed]);
    }

    private Task<SiloProcess> StartSiloAsync() => SiloProcess.StartAsync(_siloYaml, _tenantsYaml, SiloHost.ReserveAddress());

    private static async Task<string> PublishAsync(SiloProcess silo, int sequence, string? id = null)
    {
        var idField = id is null ? "" : $"\"id\":\"{id}\",";
        var response = await silo.Http.PostAsync("/v1/events", new StringContent(
            "{" + idField + $"\"tenant_id\":\"{Tenant}\",\"event_name\":\"usage.recorded\",\"payload\":{{\"customer_id\":\"c\",\"sequence\":{sequence}}}}}",
            Encoding.UTF8,
            "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        return System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }
}
