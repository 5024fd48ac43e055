using System.Diagnostics;

namespace Webhooks.Benchmarks.Harness;

/// <summary>What one measured run saw.</summary>
internal sealed record RunStats(
    double DeliveriesPerSecond,
    double P50Ms,
    double P99Ms,
    int Accepted,
    int Delivered,
    int Lost,
    int Duplicates,
    double CpuMsPerDelivery,
    double AllocBytesPerDelivery,
    double PeakRssMb,
    double GcPauseShare,
    double GcMeanPauseMs);

/// <summary>Drives publishers against a recorder and measures a steady window.</summary>
internal static class Workload
{
    /// <summary>
    /// Runs <paramref name="workers"/> publishers as fast as they go (or at <paramref name="ratePerSecond"/>), measures
    /// deliveries over <paramref name="measure"/> after <paramref name="warmup"/>, then waits for every accepted event.
    /// </summary>
    public static async Task<RunStats> RunAsync(
        string label,
        DeliveryRecorder recorder,
        int workers,
        Func<int, Task<bool>> publish,
        TimeSpan warmup,
        TimeSpan measure,
        double? ratePerSecond = null,
        Func<int, bool>? watched = null,
        Func<int>? deliveredCounter = null)
    {
        recorder.Reset();
        deliveredCounter ??= () => recorder.Delivered;
        using var meter = new ProcessMeter();
        using var stop = new CancellationTokenSource();
        var accepted = 0;
        var started = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var seq = recorder.Next();
                if (seq < 0)
                {
                    return;
                }

                if (ratePerSecond is { } rate)
                {
                    // Open loop: each event has its moment; a late publisher does not wait.
                    var due = started + (long)(seq / rate * Stopwatch.Frequency);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(wait);
                    }
                }

                recorder.Sent(seq, watched?.Invoke(seq) ?? true);
                if (await publish(seq))
                {
                    Interlocked.Increment(ref accepted);
                }
            }
        })).ToArray();

        using var ticker = new Timer(_ => Console.Write($"\r  {label}: {recorder.Delivered,9:N0} delivered   "), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await Task.Delay(warmup);
        var delivered0 = deliveredCounter();
        var t0 = Stopwatch.GetTimestamp();
        meter.Start();
        await Task.Delay(measure);
        var delivered1 = deliveredCounter();
        var t1 = Stopwatch.GetTimestamp();
        var usage = meter.Stop();
        await stop.CancelAsync();
        await Task.WhenAll(tasks);

        var drainDeadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 60);
        while (recorder.Delivered < Volatile.Read(ref accepted) && Stopwatch.GetTimestamp() < drainDeadline)
        {
            await Task.Delay(50);
        }

        ticker.Change(Timeout.Infinite, Timeout.Infinite);
        Console.Write("\r" + new string(' ', 60) + "\r");
        var deliveries = delivered1 - delivered0;
        var seconds = Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
        var latencies = recorder.LatenciesMs(t0, t1);
        Array.Sort(latencies);
        return new RunStats(
            deliveries / seconds,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            accepted,
            recorder.Delivered,
            Math.Max(0, accepted - recorder.Delivered),
            recorder.Duplicates,
            deliveries == 0 ? 0 : usage.Cpu.TotalMilliseconds / deliveries,
            deliveries == 0 ? 0 : (double)usage.Allocated / deliveries,
            usage.PeakWorkingSet / (1024.0 * 1024.0),
            usage.PauseShareOver(Stopwatch.GetElapsedTime(t0, t1)),
            usage.MeanPauseMs);
    }

    public static double Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(quantile * sorted.Length) - 1)];
}
