using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>
/// Edits to <c>tenants.yaml</c> take effect on every silo within seconds, without a restart; an invalid edit is rejected
/// with an error naming the file, tenant and field, and the last good configuration stays in force.
/// </summary>
public sealed class HotReloadTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private WebhookCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _receiver.AnswerAfter("slow", TimeSpan.FromMilliseconds(100));
        _cluster = await WebhookCluster.StartAsync(Tenants(), "delivery:\n  max_concurrency: 1\n", silos: 2);
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_new_tenant_takes_effect_on_every_silo()
    {
        await EditAsync(Tenants().Tenant("newcomer", _receiver.EndpointFor("newcomer")), settings => settings.Find("newcomer") is not null);

        var fromFirst = await _cluster.SiloPublisher(0).PublishAsync(Event("newcomer"));
        var fromSecond = await _cluster.SiloPublisher(1).PublishAsync(Event("newcomer"));

        var delivered = await _receiver.WaitForAsync("newcomer", 2);
        Assert.Equal(new[] { fromFirst, fromSecond }.Order(StringComparer.Ordinal), delivered.Select(r => r.EventId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_removed_tenant_gets_nothing_more()
    {
        await EditAsync(new TenantsYaml().Tenant("slow", _receiver.EndpointFor("slow")), settings => settings.Find("acme") is null);

        await _cluster.ClientPublisher.PublishAsync(Event("acme"));

        await Eventually.Until(async () => (await _cluster.Tenant("acme").GetStats()).Filtered.GetValueOrDefault(FilterReasons.UnknownTenant) == 1, "the event to be filtered");
        Assert.Empty(_receiver.RequestsFor("acme"));
    }

    [Fact]
    public async Task A_changed_endpoint_headers_and_exclusions_apply_to_the_next_delivery()
    {
        await EditAsync(
            Tenants(acmeEndpoint: _receiver.EndpointFor("acme-v2"), acmeKey: "key-v2", acmeExcluded: [WebhookEventNames.PriceDeleted]),
            settings => settings.Find("acme")!.Endpoint!.AbsolutePath.EndsWith("acme-v2", StringComparison.Ordinal));

        var id = await _cluster.ClientPublisher.PublishAsync(Event("acme"));
        await _cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("acme", WebhookEventNames.PriceDeleted, new { price_id = "p" }));

        var delivered = Assert.Single(await _receiver.WaitForAsync("acme-v2", 1));
        Assert.Equal(id, delivered.EventId);
        Assert.Equal("key-v2", delivered.Header("X-Api-Key"));
        await Eventually.Until(async () => (await _cluster.Tenant("acme").GetStats()).Filtered.GetValueOrDefault(FilterReasons.EventExcluded) == 1, "the newly excluded event to be filtered");
        Assert.Empty(_receiver.RequestsFor("acme"));
    }

    [Fact]
    public async Task Disabling_a_tenant_with_a_queue_loses_none_of_its_events()
    {
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add(await _cluster.ClientPublisher.PublishAsync(Event("slow")));
        }

        await EditAsync(Tenants(slowEnabled: false), settings => !settings.Find("slow")!.Enabled);

        // Those delivered before the edit were delivered; the rest are kept, to be replayed once the tenant is back.
        var stats = await Eventually.Until(() => _cluster.Tenant("slow").GetStats(), s => s.Buffered == 0 && s.InFlight == 0, "the queue to be settled");
        var failed = (await _cluster.Tenant("slow").GetFailed()).Select(f => f.Event.Id).ToList();
        var delivered = _receiver.SuccessesFor("slow").Keys.ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), delivered.Concat(failed).Order(StringComparer.Ordinal));
        Assert.True(failed.Count > 0, "the edit came after every delivery; nothing was queued");
        Assert.Equal(failed.Count, stats.FailedKept);
    }

    [Fact]
    public async Task An_invalid_edit_is_rejected_with_the_file_tenant_and_field_and_the_last_good_configuration_stays()
    {
        await File.WriteAllTextAsync(_cluster.TenantsPath, Tenants().ToString().Replace(_receiver.EndpointFor("acme"), "ftp://not-http/acme", StringComparison.Ordinal));

        var rejection = await Eventually.Until(
            () => Task.FromResult(_cluster.SiloLogs.Where(l => l.Level == LogLevel.Error && l.Message.Contains("rejected", StringComparison.Ordinal)).ToList()),
            logs => logs.Count >= 2,
            "both silos to reject the edit");
        Assert.All(rejection, log =>
        {
            Assert.Contains(_cluster.TenantsPath, log.Message, StringComparison.Ordinal);
            Assert.Contains("tenant 'acme', field 'endpoint'", log.Message, StringComparison.Ordinal);
        });

        var id = await _cluster.ClientPublisher.PublishAsync(Event("acme"));
        Assert.Equal(id, Assert.Single(await _receiver.WaitForAsync("acme", 1)).EventId);
    }

    [Fact]
    public async Task Malformed_yaml_and_a_missing_file_keep_the_last_good_configuration()
    {
        await File.WriteAllTextAsync(_cluster.TenantsPath, "webhook:\n  tenants:\n    acme: [\n");
        await Eventually.Until(
            () => Task.FromResult(_cluster.SiloLogs.Count(l => l.Level == LogLevel.Error && l.Message.Contains("malformed YAML", StringComparison.Ordinal)) >= 2),
            "both silos to reject the malformed file");
        File.Delete(_cluster.TenantsPath);
        await Eventually.Until(
            () => Task.FromResult(_cluster.SiloLogs.Count(l => l.Level == LogLevel.Error && l.Message.Contains("missing", StringComparison.Ordinal)) >= 2),
            "both silos to notice the missing file");

        var id = await _cluster.ClientPublisher.PublishAsync(Event("acme"));

        Assert.Equal(id, Assert.Single(await _receiver.WaitForAsync("acme", 1)).EventId);
        Assert.All(_cluster.Cluster.Silos, silo => Assert.NotNull(Settings(silo.ServiceProvider).Find("acme")));
    }

    [Fact]
    public async Task A_changed_topic_waits_for_a_restart_and_loses_no_event()
    {
        await EditAsync(
            new TenantsYaml { Topic = "other-topic" }.Tenant("acme", _receiver.EndpointFor("acme-topic")).Tenant("slow", _receiver.EndpointFor("slow")),
            settings => settings.Find("acme")!.Endpoint!.AbsolutePath.EndsWith("acme-topic", StringComparison.Ordinal));

        var id = await _cluster.ClientPublisher.PublishAsync(Event("acme"));

        Assert.Equal(id, Assert.Single(await _receiver.WaitForAsync("acme-topic", 1)).EventId);
        Assert.All(_cluster.Cluster.Silos, silo => Assert.Equal(WebhookStreams.DefaultTopic, Settings(silo.ServiceProvider).Topic));
    }

    private TenantsYaml Tenants(string? acmeEndpoint = null, string acmeKey = "key-v1", string[]? acmeExcluded = null, bool slowEnabled = true) =>
        new TenantsYaml()
            .Tenant("acme", acmeEndpoint ?? _receiver.EndpointFor("acme"), new Dictionary<string, string> { ["X-Api-Key"] = acmeKey }, excluded: acmeExcluded ?? [])
            .Tenant("slow", _receiver.EndpointFor("slow"), enabled: slowEnabled);

    private static WebhookEvent Event(string tenant) => WebhookEvent.Create(tenant, WebhookEventNames.PriceUpdated, new { price_id = "p" });

    private static WebhookSettings Settings(IServiceProvider silo) => silo.GetRequiredService<WebhookSettingsMonitor>().Current;

    private async Task EditAsync(TenantsYaml tenants, Func<WebhookSettings, bool> applied)
    {
        await File.WriteAllTextAsync(_cluster.TenantsPath, tenants.ToString());
        await Eventually.Until(
            () => Task.FromResult(_cluster.Cluster.Silos.All(silo => applied(Settings(silo.ServiceProvider)))),
            "every silo to apply the edit",
            TimeSpan.FromSeconds(15));
    }
}
