using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Delivery;

namespace Webhooks.Observability;

/// <summary>
/// Whether this silo can take events now: it is an active cluster member, the event stream provider is up, and the
/// storage that acknowledgements depend on answers.
/// </summary>
internal sealed class WebhookReadinessCheck(
    ISiloStatusOracle silo,
    IClusterClient client,
    IOptions<StorageOptions> storage,
    RedisConnection redis) : IHealthCheck
{
    private static readonly TimeSpan StorageTimeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (silo.CurrentStatus != SiloStatus.Active)
        {
            return HealthCheckResult.Unhealthy($"the silo is {silo.CurrentStatus}, not active");
        }

        try
        {
            client.GetStreamProvider(WebhookStreams.ProviderName);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("the event stream provider is not available", ex);
        }

        if (storage.Value.IsDurable)
        {
            try
            {
                var database = await redis.GetDatabaseAsync();
                await database.PingAsync().WaitAsync(StorageTimeout, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy("Redis storage does not answer", ex);
            }
        }

        return HealthCheckResult.Healthy();
    }
}
