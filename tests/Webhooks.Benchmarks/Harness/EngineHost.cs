using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Webhooks.Configuration;
using Webhooks.Hosting;

namespace Webhooks.Benchmarks.Harness;

/// <summary>The engine co-hosted in this process, as an application would run it, on its shipped defaults.</summary>
internal sealed class EngineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private EngineHost(IHost host)
    {
        _host = host;
        Publisher = host.Services.GetRequiredService<IWebhookPublisher>();
        Grains = host.Services.GetRequiredService<IGrainFactory>();
    }

    public IWebhookPublisher Publisher { get; }

    public IGrainFactory Grains { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>Starts a silo whose tenants are <paramref name="tenants"/>: tenant id and endpoint URL.</summary>
    public static async Task<EngineHost> StartAsync(IEnumerable<(string Id, string Endpoint)> tenants, TimeSpan deliveryTimeout)
    {
        var settings = new Dictionary<string, string?>
        {
            // The receiver is on loopback, which the SSRF guard refuses unless allowed.
            ["security:allowed_networks:0"] = "127.0.0.0/8",
            ["delivery:timeout"] = deliveryTimeout.ToString("c", CultureInfo.InvariantCulture),
            ["ingest:max_wait"] = "00:00:05",
        };

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();

        // Tenants come from a tenants.yaml, as in production: its provider binds many tenants in linear time.
        builder.Configuration.AddWebhooksYamlFile(TenantsFile.Write(tenants));
        builder.Configuration.AddInMemoryCollection(settings);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .AddWebhooks(builder.Configuration));
        var host = builder.Build();
        await host.StartAsync();
        return new EngineHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
