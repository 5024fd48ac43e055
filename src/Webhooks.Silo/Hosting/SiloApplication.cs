using System.Text.Json;
using Orleans.Dashboard;
using Webhooks.Configuration;
using Webhooks.Hosting;
using Webhooks.Silo.Http;
using Webhooks.Silo.Security;

namespace Webhooks.Silo.Hosting;

/// <summary>Builds the silo host: configuration sources, the Orleans silo with the engine, and the HTTP API.</summary>
internal static class SiloApplication
{
    /// <summary>The HTTP address used when neither <c>silo.yaml</c> nor <c>--urls</c> sets one.</summary>
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static WebApplication Build(SiloStartup startup)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = startup.ConfigurationArgs });
        AddConfigurationSources(builder.Configuration, startup);

        var origin = new ConfigurationOrigin(builder.Configuration);
        var siloOptions = new SiloHostOptions();
        origin.Bind(SiloHostOptions.SectionName, siloOptions);
        var development = new DevelopmentOptions();
        origin.Bind(DevelopmentOptions.SectionName, development);
        var limits = new IngestLimitsOptions();
        origin.Bind(IngestLimitsOptions.SectionName, limits);
        var observability = new SiloObservabilityOptions();
        origin.Bind(SiloObservabilityOptions.SectionName, observability);
        if (!string.IsNullOrWhiteSpace(observability.OtlpEndpoint)
            && !(Uri.TryCreate(observability.OtlpEndpoint, UriKind.Absolute, out var otlp) && otlp.Scheme is "http" or "https"))
        {
            var field = $"{SiloObservabilityOptions.SectionName}:otlp_endpoint";
            throw new WebhookConfigurationException($"{origin.Describe(field)}: field '{field.Replace(':', '.')}' is not an absolute http(s) URL");
        }

        var apiKeys = ApiKeys.Load(builder.Configuration, ListenUrls(builder.Configuration));

        // The envelope around a payload is small; a body far beyond the payload limit is cut off while it is read.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = limits.MaxPayloadBytes + (64 * 1024));

        // Time for grains to finish deliveries in flight and store the rest when the process is asked to stop.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromMinutes(1));

        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloOptions.SiloPort, siloOptions.GatewayPort, serviceId: siloOptions.ServiceId, clusterId: siloOptions.ClusterId)
                .AddMemoryGrainStorageAsDefault()
                .AddActivityPropagation()
                .AddWebhooks(builder.Configuration);
            if (observability.Dashboard)
            {
                silo.AddDashboard();
            }
        });

        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddProblemDetails();
        builder.Services.AddApiKeyAuthorization(apiKeys);
        builder.AddSiloObservability(observability);
        if (development.Receiver)
        {
            builder.Services.AddSingleton<DevelopmentReceiver>();
        }

        var app = builder.Build();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapSiloObservability(observability);
        app.MapEventIngest().RequireAuthorization(ApiPolicies.Publish);
        app.MapTenantOperations().RequireAuthorization(ApiPolicies.Admin);
        if (development.Receiver)
        {
            app.MapDevelopmentReceiver();
        }

        return app;
    }

    // Where Kestrel listens, worked out as it does: 'urls' when set, else 'http_ports' and 'https_ports' on every
    // address (container images set ASPNETCORE_HTTP_PORTS), else localhost. Kestrel's own endpoints, when configured,
    // take the place of these: all are judged.
    private static IEnumerable<string> ListenUrls(IConfiguration configuration)
    {
        const StringSplitOptions Entries = StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries;
        var urls = configuration["urls"];
        var addresses = !string.IsNullOrWhiteSpace(urls)
            ? urls.Split(';', Entries)
            : (configuration["http_ports"] ?? "").Split(';', Entries).Select(port => $"http://*:{port}")
                .Concat((configuration["https_ports"] ?? "").Split(';', Entries).Select(port => $"https://*:{port}"));
        return addresses.Concat(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(endpoint => endpoint["Url"]).OfType<string>());
    }

    // Embedded defaults, then the two YAML files, then the standard .NET overrides: environment and command line.
    private static void AddConfigurationSources(ConfigurationManager configuration, SiloStartup startup)
    {
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = DefaultUrls,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Orleans"] = "Warning",
            ["Logging:LogLevel:Microsoft"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
            ["Logging:LogLevel:Polly"] = "Warning",

            // A start-up failure is reported once, in words, by the command; the host's own stack trace adds noise.
            ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "None",
        });
        configuration.AddWebhooksYamlFile(startup.SiloConfigPath, optional: !startup.SiloConfigRequired);
        configuration.AddWebhooksYamlFile(startup.TenantsConfigPath, optional: !startup.TenantsConfigRequired, reloadOnChange: true);
        configuration.AddEnvironmentVariables();
        configuration.AddEnvironmentVariables("ASPNETCORE_");
        configuration.AddCommandLine(startup.ConfigurationArgs);
    }
}
