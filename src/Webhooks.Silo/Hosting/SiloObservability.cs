using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Orleans.Dashboard;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Webhooks.Hosting;
using Webhooks.Observability;
using Webhooks.Silo.Security;

namespace Webhooks.Silo.Hosting;

/// <summary>The <c>observability</c> section of <c>silo.yaml</c>, as far as the host goes.</summary>
internal sealed class SiloObservabilityOptions
{
    public const string SectionName = "observability";

    /// <summary>An OTLP collector (for example <c>http://otel-collector:4317</c>) that metrics and traces are sent to.</summary>
    [ConfigurationKeyName("otlp_endpoint")]
    public string? OtlpEndpoint { get; set; }

    /// <summary>Serves the Orleans dashboard at <c>/dashboard</c>, behind the admin key when API keys are set.</summary>
    [ConfigurationKeyName("dashboard")]
    public bool Dashboard { get; set; }
}

/// <summary>Metrics, traces, health probes and the dashboard of the runnable silo.</summary>
internal static class SiloObservability
{
    /// <summary>Orleans' own meter.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    public static void AddSiloObservability(this WebApplicationBuilder builder, SiloObservabilityOptions options)
    {
        var otlp = string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? null : new Uri(options.OtlpEndpoint);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(WebhookMetrics.MeterName, OrleansMeter)
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(exporter => exporter.Endpoint = otlp);
                }
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(WebhookTracing.SourceName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context => context.Request.Path.StartsWithSegments("/v1"));
                if (otlp is not null)
                {
                    tracing.AddOtlpExporter(exporter => exporter.Endpoint = otlp);
                }
            });

        builder.Services.AddHealthChecks().AddWebhooksReadiness();
    }

    public static void MapSiloObservability(this WebApplication app, SiloObservabilityOptions options)
    {
        // Liveness runs no check: the process answers. Readiness asks whether events can be taken now.
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(WebhooksSiloBuilderExtensions.ReadinessTag) });
        app.MapPrometheusScrapingEndpoint("/metrics");
        if (options.Dashboard)
        {
            app.MapOrleansDashboard(routePrefix: "/dashboard").RequireAuthorization(ApiPolicies.Admin);
        }
    }
}
