using System.Text.Json.Serialization;

namespace Webhooks.Benchmarks.Scenarios;

/// <summary>One row of the summary: a scenario, the path it drove, and what it measured.</summary>
internal sealed record ScenarioResult(
    string Name,
    string Path,
    int Tenants,
    double DeliveriesPerS,
    double RatioToRaw,
    double P50Ms,
    double P99Ms,
    int Lost,
    double CpuMsPerDelivery,
    double AllocBytesPerDelivery,
    double PeakRssMb,
    double GcPauseShare,
    double GcMeanPauseMs)
{
    /// <summary>For memory scenarios: bytes per configured tenant or per active tenant grain.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? BytesPerTenant { get; init; }

    public static ScenarioResult From(string name, string path, int tenants, Harness.RunStats stats, double rawReference) => new(
        name,
        path,
        tenants,
        Math.Round(stats.DeliveriesPerSecond, 1),
        rawReference > 0 ? Math.Round(stats.DeliveriesPerSecond / rawReference, 3) : 1,
        Math.Round(stats.P50Ms, 3),
        Math.Round(stats.P99Ms, 3),
        stats.Lost,
        Math.Round(stats.CpuMsPerDelivery, 4),
        Math.Round(stats.AllocBytesPerDelivery, 0),
        Math.Round(stats.PeakRssMb, 1),
        Math.Round(stats.GcPauseShare, 3),
        Math.Round(stats.GcMeanPauseMs, 2));
}

/// <summary>How big each scenario runs: the full suite, or the same scenarios smaller with <c>--quick</c>.</summary>
internal sealed record BenchmarkSizes(
    TimeSpan Warmup,
    TimeSpan Measure,
    int[] TenantCounts,
    int BurstEvents,
    int HangTenants,
    int ConfiguredTenants,
    int ActiveTenants,
    int Capacity,
    int HalfRateRounds,
    int[] FloorConcurrency,
    TimeSpan DeliveryTimeout)
{
    public static BenchmarkSizes Full { get; } = new(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10), [1, 100, 10_000], 100_000, 1_000, 100_000, 10_000, 2_000_000, 3, [16, 64, 256], TimeSpan.FromSeconds(5));

    // A quick run checks that every scenario works, not its figures: shorter windows, one latency round per path, one
    // floor level, and hanging endpoints that time out sooner.
    public static BenchmarkSizes Quick { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), [1, 100, 1_000], 20_000, 200, 20_000, 1_000, 600_000, 1, [64], TimeSpan.FromSeconds(2));
}
