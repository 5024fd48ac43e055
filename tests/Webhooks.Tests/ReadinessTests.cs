using System.Net;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Webhooks.Hosting;

namespace Webhooks.Tests;

/// <summary>Readiness of the runnable silo with memory storage: ready while it runs, not ready once it stops.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readyz_is_200_while_the_silo_runs_and_turns_unready_once_it_shuts_down()
    {
        var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("hanging");
        var silo = await SiloHost.StartAsync(
            new TenantsYaml().Tenant("hanging", receiver.EndpointFor("hanging")).ToString(),
            "delivery:\n  timeout: 00:00:10\n");
        Task? stopping = null;
        using var http = new HttpClient { BaseAddress = silo.BaseAddress };
        var health = silo.Services.GetRequiredService<HealthCheckService>();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HealthStatus.Healthy, (await ReadinessAsync(health)).Status);

            // A delivery in flight holds the shutdown open: the tenant grain lets it finish before it deactivates.
            var published = await http.PostAsync(
                "/v1/events",
                new StringContent("""{"tenant_id":"hanging","event_name":"price.updated","payload":{"price_id":"p"}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
            await receiver.WaitForAsync("hanging", 1);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

            stopping = silo.DisposeAsync().AsTask();

            // The HTTP server stops first, so a probe is refused rather than answered 503; the silo is still stopping.
            await Eventually.Until(async () => !await AnswersOkAsync(http, "/readyz"), "/readyz to stop answering 200", TimeSpan.FromSeconds(8));
            var report = await Eventually.Until(
                () => ReadinessAsync(health),
                r => r.Status == HealthStatus.Unhealthy,
                "the readiness check to turn unhealthy while the silo stops",
                TimeSpan.FromSeconds(8));
            Assert.False(stopping.IsCompleted, "the silo stopped before readiness could be seen turning");
            Assert.Contains("not active", Assert.Single(report.Entries).Value.Description, StringComparison.Ordinal);
        }
        finally
        {
            await receiver.DisposeAsync();
            await (stopping ?? silo.DisposeAsync().AsTask());
        }
    }

    private static Task<HealthReport> ReadinessAsync(HealthCheckService health) =>
        health.CheckHealthAsync(check => check.Tags.Contains(WebhooksSiloBuilderExtensions.ReadinessTag));

    private static async Task<bool> AnswersOkAsync(HttpClient http, string path)
    {
        try
        {
            return (await http.GetAsync(path)).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
