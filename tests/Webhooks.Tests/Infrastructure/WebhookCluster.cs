using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using Orleans.TestingHost;
using Webhooks.Configuration;
using Webhooks.Hosting;
using Webhooks.Ingest;
using Webhooks.Observability;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// A real Orleans test cluster running the engine, configured from YAML files like a deployed silo, with an external
/// client that has the webhooks gateway.
/// </summary>
public sealed class WebhookCluster : IAsyncDisposable
{
    /// <summary>Silo settings suited to tests: short timeouts, so that failures show quickly.</summary>
    public const string DefaultSiloYaml = """
        delivery:
          timeout: 00:00:05
          max_concurrency: 8
          buffer_size: 1024
        ingest:
          max_wait: 00:00:02
        """;

    private readonly TempDirectory _files;
    private readonly FakeLogCollector _logs;

    private WebhookCluster(InProcessTestCluster cluster, TempDirectory files, FakeLogCollector logs)
    {
        Cluster = cluster;
        _files = files;
        _logs = logs;
    }

    public InProcessTestCluster Cluster { get; }

    /// <summary>The cluster's <c>tenants.yaml</c>, watched by every silo.</summary>
    public string TenantsPath => Path.Combine(_files.Path, "tenants.yaml");

    public IClusterClient Client => Cluster.Client;

    /// <summary>The gateway of the external Orleans client.</summary>
    public IWebhookPublisher ClientPublisher => Client.ServiceProvider.GetRequiredService<IWebhookPublisher>();

    /// <summary>The gateway inside a silo, as a co-hosted application sees it.</summary>
    public IWebhookPublisher SiloPublisher(int silo = 0) => Cluster.Silos[silo].ServiceProvider.GetRequiredService<IWebhookPublisher>();

    public ITenantWebhookGrain Tenant(string tenantId) => Client.GetGrain<ITenantWebhookGrain>(tenantId);

    /// <summary>Every log record written by the silos, including silos that have stopped.</summary>
    public IReadOnlyList<FakeLogRecord> SiloLogs => _logs.GetSnapshot();

    public static async Task<WebhookCluster> StartAsync(
        TenantsYaml tenants,
        string siloYaml = DefaultSiloYaml,
        short silos = 1,
        Action<ISiloBuilder>? configureSilo = null,
        Action<WebhookPublisherOptions>? configureClient = null,
        TimeProvider? clock = null,
        bool allowLoopback = true,
        LogLevel logLevel = LogLevel.Debug)
    {
        var files = new TempDirectory();
        var logs = new FakeLogCollector();
        var siloPath = files.Write("silo.yaml", siloYaml);
        var tenantsPath = files.Write("tenants.yaml", tenants.ToString());

        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) =>
        {
            if (allowLoopback)
            {
                // Test receivers listen on 127.0.0.1, which the SSRF guard blocks by default.
                host.Configuration.AddInMemoryCollection([KeyValuePair.Create<string, string?>("security:allowed_networks:0", "127.0.0.0/8")]);
            }

            host.Configuration.AddWebhooksYamlFile(siloPath).AddWebhooksYamlFile(tenantsPath, reloadOnChange: true);
            host.Logging.AddProvider(new FakeLoggerProvider(logs));
            if (clock is not null)
            {
                // The engine follows the test's clock; Orleans itself, stream pulling included, stays on real time.
                host.Services.AddSingleton(clock);
                host.Services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
                host.Services.AddKeyedSingleton(TimeProviderNames.Grains, TimeProvider.System);
            }

            host.Logging.SetMinimumLevel(logLevel);
            if (logLevel > LogLevel.Trace)
            {
                host.Logging.AddFilter("Orleans", LogLevel.Warning);
                host.Logging.AddFilter("Microsoft", LogLevel.Warning);
                host.Logging.AddFilter("Polly", LogLevel.Warning);
            }

            host.UseOrleans(silo =>
            {
                silo.AddWebhooks(host.Configuration);
                configureSilo?.Invoke(silo);
            });
        });
        builder.ConfigureClient(client => client.AddWebhooksClient(options =>
        {
            options.MaxWait = TimeSpan.FromSeconds(2);
            configureClient?.Invoke(options);
        }));

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            files.Dispose();
            throw;
        }

        return new WebhookCluster(cluster, files, logs);
    }

    /// <summary>Collects the engine's metrics from the first silo.</summary>
    public MetricCollector<long> CollectCounter(string instrument, int silo = 0) =>
        new(Cluster.Silos[silo].ServiceProvider.GetRequiredService<IMeterFactory>(), WebhookMetrics.MeterName, instrument);

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        _files.Dispose();
    }
}
