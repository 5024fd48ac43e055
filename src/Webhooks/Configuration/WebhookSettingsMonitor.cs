using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Webhooks.Configuration;

/// <summary>
/// Holds the current <see cref="WebhookSettings"/>. When the configuration changes (an edit to <c>tenants.yaml</c>),
/// it binds and validates the new tenants; a valid change replaces the settings as a whole, an invalid one is logged,
/// naming the file, tenant and field, and the last good settings stay in force.
/// </summary>
internal sealed partial class WebhookSettingsMonitor : IDisposable
{
    private readonly IOptionsFactory<WebhookOptions> _factory;
    private readonly ConfigurationOrigin _origin;
    private readonly ILogger<WebhookSettingsMonitor> _logger;
    private readonly IDisposable _subscription;
    private readonly Lock _reloading = new();
    private WebhookSettings _current;

    public WebhookSettingsMonitor(IOptions<WebhookOptions> options, IOptionsFactory<WebhookOptions> factory, ConfigurationOrigin origin, ILogger<WebhookSettingsMonitor> logger)
    {
        _factory = factory;
        _origin = origin;
        _logger = logger;
        _current = WebhookSettings.Compile(options.Value);
        LogLoaded(logger, _current.Tenants.Count, _current.Tenants.Values.Count(t => t.Enabled), _current.Topic, _current.Enabled);
        _subscription = ChangeToken.OnChange(origin.Configuration.GetReloadToken, Reload);
    }

    public WebhookSettings Current => Volatile.Read(ref _current);

    /// <summary>Raised after new settings are in force.</summary>
    public event Action<WebhookSettings>? Changed;

    public void Dispose() => _subscription.Dispose();

    private void Reload()
    {
        lock (_reloading)
        {
            if (_origin.Configuration is IConfigurationRoot root)
            {
                foreach (var provider in root.Providers.OfType<ReloadSafeYamlProvider>())
                {
                    if (provider.LastReloadError is { } error)
                    {
                        LogRejected(_logger, error);
                        return;
                    }
                }
            }

            WebhookSettings next;
            try
            {
                next = WebhookSettings.Compile(_factory.Create(Options.DefaultName));
            }
            catch (OptionsValidationException ex)
            {
                foreach (var failure in ex.Failures)
                {
                    LogRejected(_logger, failure);
                }

                return;
            }
            catch (WebhookConfigurationException ex)
            {
                LogRejected(_logger, ex.Message);
                return;
            }

            if (next.Topic != _current.Topic)
            {
                // The tenant grains subscribe to the topic the silo started with, and gateways learn the topic from
                // them: a new one would send events where no grain listens. It waits for the restart.
                LogTopicNeedsRestart(_logger, _current.Topic, next.Topic);
                next = next.WithTopic(_current.Topic);
            }

            Volatile.Write(ref _current, next);
            LogReloaded(_logger, next.Tenants.Count, next.Tenants.Values.Count(t => t.Enabled), next.Enabled);
            Changed?.Invoke(next);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook configuration: {TenantCount} tenants ({EnabledCount} enabled), topic '{Topic}', webhooks enabled: {Enabled}")]
    private static partial void LogLoaded(ILogger logger, int tenantCount, int enabledCount, string topic, bool enabled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook configuration reloaded: {TenantCount} tenants ({EnabledCount} enabled), webhooks enabled: {Enabled}")]
    private static partial void LogReloaded(ILogger logger, int tenantCount, int enabledCount, bool enabled);

    [LoggerMessage(Level = LogLevel.Error, Message = "Configuration change rejected, the last good configuration stays in force: {Failure}")]
    private static partial void LogRejected(ILogger logger, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "webhook.topic changed from '{Current}' to '{Next}': events keep flowing on '{Current}' until the silo restarts")]
    private static partial void LogTopicNeedsRestart(ILogger logger, string current, string next);
}
