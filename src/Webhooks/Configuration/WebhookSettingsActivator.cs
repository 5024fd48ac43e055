using Microsoft.Extensions.Hosting;
using Webhooks.Observability;

namespace Webhooks.Configuration;

/// <summary>Creates the settings monitor as the host starts, so that it watches for edits from the first moment.</summary>
internal sealed class WebhookSettingsActivator(WebhookSettingsMonitor monitor, WebhookMetrics metrics) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = monitor.Current;

        // Tenant labels name configured tenants only: publishers can send any id.
        metrics.IsConfiguredTenant = tenantId => monitor.Current.Find(tenantId) is not null;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
