using Webhooks.Silo.Hosting;

namespace Webhooks.Tests.Infrastructure;

/// <summary>The runnable silo (the same code as <c>dotnet run --project src/Webhooks.Silo</c>) on free ports of 127.0.0.1.</summary>
public sealed class SiloHost : IAsyncDisposable
{
    private readonly TempDirectory _files;
    private readonly WebApplication _app;

    private SiloHost(TempDirectory files, WebApplication app, Uri baseAddress)
    {
        _files = files;
        _app = app;
        BaseAddress = baseAddress;
        Http = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    private static readonly Uri AnyPort = new("http://127.0.0.1:0");

    /// <summary>An HTTP address on a free port, to put in a tenant's endpoint before the silo starts.</summary>
    public static Uri ReserveAddress() => new($"http://127.0.0.1:{FreePorts.Next()}");

    public static async Task<SiloHost> StartAsync(string tenantsYaml, string siloYaml = "", Uri? address = null, params string[] extraArgs)
    {
        var files = new TempDirectory();
        try
        {
            // Without an address given, Kestrel picks a free port as it binds: a port reserved ahead could be taken by
            // another test's socket before the silo binds it.
            var app = Build(files, tenantsYaml, siloYaml, address ?? AnyPort, extraArgs);
            await app.StartAsync();
            return new SiloHost(files, app, new Uri(app.Urls.First()));
        }
        catch
        {
            files.Dispose();
            throw;
        }
    }

    /// <summary>Builds and starts a silo expected to refuse its configuration; returns the operator's error text.</summary>
    public static async Task<string> FailToStartAsync(string? tenantsYaml, string siloYaml = "", Action<TempDirectory>? arrange = null, params string[] extraArgs)
    {
        using var files = new TempDirectory();
        arrange?.Invoke(files);
        var exception = await Record.ExceptionAsync(async () =>
        {
            await using var app = Build(files, tenantsYaml, siloYaml, AnyPort, extraArgs);
            await app.StartAsync();
            await app.StopAsync();
        });
        Assert.NotNull(exception);
        return StartupError.Describe(exception) ?? throw new Xunit.Sdk.XunitException($"Not described as a configuration error: {exception}");
    }

    /// <summary>An event for <c>POST /v1/events</c>, with a payload every event type accepts.</summary>
    public static StringContent EventJson(string tenant, string eventName) =>
        new($$$"""{"tenant_id":"{{{tenant}}}","event_name":"{{{eventName}}}","payload":{"price_id":"p","customer_id":"c"}}""", System.Text.Encoding.UTF8, "application/json");

    /// <summary>Publishes <see cref="EventJson"/> over the HTTP API.</summary>
    public Task<HttpResponseMessage> PublishAsync(string tenant, string eventName) => Http.PostAsync("/v1/events", EventJson(tenant, eventName));

    public static string SiloPath(TempDirectory files) => Path.Combine(files.Path, "silo.yaml");

    public static string TenantsPath(TempDirectory files) => Path.Combine(files.Path, "tenants.yaml");

    // A null tenantsYaml leaves tenants.yaml unwritten, although the command line names it.
    private static WebApplication Build(TempDirectory files, string? tenantsYaml, string siloYaml, Uri address, params string[] extraArgs)
    {
        files.Write("silo.yaml", siloYaml);
        if (tenantsYaml is not null)
        {
            files.Write("tenants.yaml", tenantsYaml);
        }

        string[] args =
        [
            "--silo-config", SiloPath(files),
            "--tenants-config", TenantsPath(files),
            "--urls", address.ToString(),
            $"--orleans:silo_port={FreePorts.Next()}",
            $"--orleans:gateway_port={FreePorts.Next()}",
            "--Logging:LogLevel:Default=Warning",
            .. LoopbackAllowed(siloYaml),
            .. extraArgs,
        ];
        return SiloApplication.Build(SiloCommand.ToStartup(SiloCommand.Create().Parse(args)));
    }

    // Test receivers listen on 127.0.0.1, which the SSRF guard blocks unless the test's silo.yaml says otherwise.
    private static string[] LoopbackAllowed(string siloYaml) =>
        siloYaml.Contains("allowed_networks", StringComparison.Ordinal) ? [] : ["--security:allowed_networks:0=127.0.0.0/8"];

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _files.Dispose();
    }
}
