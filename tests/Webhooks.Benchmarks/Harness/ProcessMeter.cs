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

    /// <summary>
    /// What the stretch used. <c>Paused</c> is the time the collector stopped every thread, over <c>Collections</c>
    /// collections (a gen0 count, as every collection collects gen0).
    /// </summary>
    public (TimeSpan Cpu, long Allocated, long PeakWorkingSet, TimeSpan Paused, int Collections) Stop()
    {
        _process.Refresh();
        Sample();
        return (
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
