using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Webhooks.Configuration;

/// <summary>Holds the current <see cref="WebhookSettings"/>, recompiled whenever the options change.</summary>
internal sealed partial class WebhookSettingsMonitor : IDisposable
{
    private readonly IDisposable? _subscription;
    private readonly ILogger<WebhookSettingsMonitor> _logger;
    private WebhookSettings _current;

    public WebhookSettingsMonitor(IOptionsMonitor<WebhookOptions> options, ILogger<WebhookSettingsMonitor> logger)
    {
        _logger = logger;
        _current = Compile(options.CurrentValue);
        _subscription = options.OnChange(changed => Volatile.Write(ref _current, Compile(changed)));
    }

    public WebhookSettings Current => Volatile.Read(ref _current);

    public void Dispose() => _subscription?.Dispose();

    private WebhookSettings Compile(WebhookOptions options)
    {
        var settings = WebhookSettings.Compile(options);
        LogLoaded(_logger, settings.Tenants.Count, settings.Tenants.Values.Count(t => t.Enabled), settings.Topic, settings.Enabled);
        return settings;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook configuration: {TenantCount} tenants ({EnabledCount} enabled), topic '{Topic}', webhooks enabled: {Enabled}")]
    private static partial void LogLoaded(ILogger logger, int tenantCount, int enabledCount, string topic, bool enabled);
}
