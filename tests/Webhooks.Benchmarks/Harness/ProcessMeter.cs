using System.Diagnostics;

namespace Webhooks.Benchmarks.Harness;

/// <summary>
/// CPU time, allocations, collector pauses and peak working set of this process over a stretch of a scenario.
/// </summary>
internal sealed class ProcessMeter : IDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly Timer _sampler;
    private long _peakWorkingSet;
    private TimeSpan _cpuStart;
    private long _allocatedStart;
    private TimeSpan _pausedStart;
    private int _collectionsStart;

    public ProcessMeter()
    {
        _sampler = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
    }

    public void Start()
    {
        _process.Refresh();
        _cpuStart = _process.TotalProcessorTime;
        _allocatedStart = GC.GetTotalAllocatedBytes(precise: false);
        _pausedStart = GC.GetTotalPauseDuration();
        _collectionsStart = GC.CollectionCount(0);
        Interlocked.Exchange(ref _peakWorkingSet, Environment.WorkingSet);
    }

    /// <summary>What the stretch used.</summary>
    public ProcessUsage Stop()
    {
        _process.Refresh();
        Sample();
        return new(
            _process.TotalProcessorTime - _cpuStart,
            GC.GetTotalAllocatedBytes(precise: false) - _allocatedStart,
            Interlocked.Read(ref _peakWorkingSet),
            GC.GetTotalPauseDuration() - _pausedStart,
            GC.CollectionCount(0) - _collectionsStart);
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _process.Dispose();
    }

    private void Sample()
    {
        var current = Environment.WorkingSet;
        long peak;
        while (current > (peak = Interlocked.Read(ref _peakWorkingSet)) && Interlocked.CompareExchange(ref _peakWorkingSet, current, peak) != peak)
        {
        }
    }
}

/// <summary>
/// What a stretch of a scenario used. <see cref="Paused"/> is the time the collector stopped every thread, over
/// <see cref="Collections"/> collections (a gen0 count, as every collection collects gen0).
/// </summary>
internal sealed record ProcessUsage(TimeSpan Cpu, long Allocated, long PeakWorkingSet, TimeSpan Paused, int Collections)
{
    /// <summary>The mean pause of a collection, in milliseconds; 0 when none ran.</summary>
    public double MeanPauseMs => Collections == 0 ? 0 : Paused.TotalMilliseconds / Collections;

    /// <summary>The share of <paramref name="window"/> that the collector had every thread stopped.</summary>
    public double PauseShareOver(TimeSpan window) => Paused / window;
}
