using Microsoft.Extensions.Hosting;

namespace Webhooks.Configuration;

/// <summary>Creates the settings monitor as the host starts, so that it watches for edits from the first moment.</summary>
internal sealed class WebhookSettingsActivator(WebhookSettingsMonitor monitor) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = monitor.Current;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
