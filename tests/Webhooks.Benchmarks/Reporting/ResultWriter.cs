using System.Globalization;
using System.Text;
using System.Text.Json;
using Webhooks.Benchmarks.Harness;
using Webhooks.Benchmarks.Scenarios;

namespace Webhooks.Benchmarks.Reporting;

/// <summary>Prints the results as a table with the targets, and writes them as JSON and as a chart.</summary>
internal static class ResultWriter
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void PrintTable(IReadOnlyList<ScenarioResult> results)
    {
        var table = new StringBuilder();
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-28} {"path",-9} {"tenants",8} {"deliv/s",10} {"x raw",6} {"p50 ms",8} {"p99 ms",8} {"lost",6} {"cpu ms/d",9} {"alloc B/d",10} {"rss MB",7} {"gc %",5} {"gc ms",6} {"B/tenant",9}");
        foreach (var r in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{r.Name,-28} {r.Path,-9} {r.Tenants,8:N0} {r.DeliveriesPerS,10:N0} {r.RatioToRaw,6:0.00} {r.P50Ms,8:0.00} {r.P99Ms,8:0.00} {r.Lost,6} {r.CpuMsPerDelivery,9:0.000} {r.AllocBytesPerDelivery,10:N0} {r.PeakRssMb,7:0} {r.GcPauseShare * 100,5:0} {r.GcMeanPauseMs,6:0.0} {(r.BytesPerTenant is { } b ? b.ToString("N0", CultureInfo.InvariantCulture) : ""),9}");
        }

        Console.WriteLine(table);
    }

    public static void PrintStages(IReadOnlyList<StageBreakdown> breakdowns)
    {
        if (breakdowns.Count == 0)
        {
            return;
        }

        var table = new StringBuilder();
        table.AppendLine("Where the time goes at half of each path's peak, from the engine's traces (recording them costs time of its own):");
        table.AppendLine(CultureInfo.InvariantCulture, $"{"stage",-22} {string.Join(" ", breakdowns.Select(b => $"{b.Path + " p50",12} {b.Path + " p99",12}"))}");
        for (var stage = 0; stage < breakdowns[0].Stages.Count; stage++)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{breakdowns[0].Stages[stage].Name,-22} {string.Join(" ", breakdowns.Select(b => $"{b.Stages[stage].P50Ms,12:0.00} {b.Stages[stage].P99Ms,12:0.00}"))}");
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"{"events",-22} {string.Join(" ", breakdowns.Select(b => $"{b.Events,12:N0} {"",12}"))}");
        Console.WriteLine(table);
    }

    /// <summary>Checks each target; returns one line per target, saying whether it holds and by how much.</summary>
    public static IReadOnlyList<string> Targets(IReadOnlyList<ScenarioResult> results, double rawP99AtHalfRate, int[] tenantCounts)
    {
        var lines = new List<string>();
        ScenarioResult? Find(string name) => results.FirstOrDefault(r => r.Name == name);
        void Check(string what, bool holds, string detail) => lines.Add($"{(holds ? "met " : "MISS")}  {what}: {detail}");

        foreach (var count in tenantCounts.Skip(1))
        {
            foreach (var path in new[] { "gateway", "grain" })
            {
                if (Find($"e2e_{path}_{count}") is { } e2e)
                {
                    Check($"end to end, {path}, {count:N0} tenants >= 0.8 x raw", e2e.RatioToRaw >= 0.8, $"{e2e.RatioToRaw:0.00} x raw");
                }
            }
        }

        if (results.FirstOrDefault(r => r.Name.StartsWith("burst_", StringComparison.Ordinal)) is { } burst)
        {
            Check("single-tenant burst loses nothing and >= 0.5 x raw", burst.Lost == 0 && burst.RatioToRaw >= 0.5, $"lost {burst.Lost}, {burst.RatioToRaw:0.00} x raw");
        }

        if (Find("hang_baseline") is { } baseline && Find("hang_healthy_tenants") is { } hang)
        {
            var throughput = hang.DeliveriesPerS / baseline.DeliveriesPerS;
            var p99 = hang.P99Ms / baseline.P99Ms;
            Check("healthy tenants keep >= 0.9 x their throughput while 10% hang", throughput >= 0.9, $"{throughput:0.00} x");
            Check("healthy tenants' p99 within 2 x while 10% hang", p99 <= 2, $"{p99:0.00} x ({hang.P99Ms:0.0} vs {baseline.P99Ms:0.0} ms)");
        }

        foreach (var path in new[] { "gateway", "grain" })
        {
            if (Find($"e2e_{path}_half_rate") is { } half)
            {
                // Against the raw runs that alternated with this path's, when there were any.
                var rawP99 = Find($"raw_beside_{path}_half_rate")?.P99Ms ?? rawP99AtHalfRate;
                var ratio = half.P99Ms / rawP99;
                Check($"p99 at half of peak rate within 2 x the raw p99, {path}", ratio <= 2, $"{ratio:0.00} x ({half.P99Ms:0.0} vs {rawP99:0.0} ms)");
            }
        }

        // A figure below zero is the heap's noise, larger than what was measured: it proves nothing either way.
        void CheckMemory(string what, double bytes, double limit)
        {
            if (bytes < 0)
            {
                lines.Add($"n/a   {what}: {bytes:N0} bytes, below this run's noise");
            }
            else
            {
                Check(what, bytes <= limit, $"{bytes:N0} bytes");
            }
        }

        if (Find("memory_configured_tenant") is { BytesPerTenant: { } configured })
        {
            CheckMemory("an idle configured tenant costs <= 1 KiB", configured, 1024);
        }

        if (Find("memory_active_tenant_grain") is { BytesPerTenant: { } active })
        {
            CheckMemory("an active tenant grain costs <= 8 KiB", active, 8192);
        }

        return lines;
    }

    public static async Task WriteJsonAsync(string path, IReadOnlyList<ScenarioResult> results, IReadOnlyList<StageBreakdown> stages, IReadOnlyList<string> targets, string machine)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var file = File.Create(path);
        await JsonSerializer.SerializeAsync(file, new { machine, generated_at = DateTimeOffset.UtcNow, scenarios = results, stages, targets }, Json);
    }

    public static void WriteChart(string path, IReadOnlyList<ScenarioResult> results, double raw)
    {
        var plot = new ScottPlot.Plot();
        var throughput = results.Where(r => r.DeliveriesPerS > 0 && !r.Name.EndsWith("half_rate", StringComparison.Ordinal)).ToList();
        var bars = plot.Add.Bars(throughput.Select(r => r.DeliveriesPerS).ToArray());
        bars.Color = ScottPlot.Colors.SteelBlue;
        plot.Add.HorizontalLine(raw, 2, ScottPlot.Colors.DarkRed).LegendText = "raw HTTP limit";
        plot.Add.HorizontalLine(raw * 0.8, 1, ScottPlot.Colors.Orange, ScottPlot.LinePattern.Dashed).LegendText = "0.8 x raw";
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, throughput.Count).Select(i => (double)i)], [.. throughput.Select(r => r.Name)]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;

        // Room under the axis for the rotated scenario names.
        plot.Axes.Bottom.MinimumSize = 190;
        plot.Axes.Left.Label.Text = "deliveries per second";
        plot.Title("Webhooks.Orleans: deliveries per second, same machine, same run");
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 1400, 800);
    }
}
