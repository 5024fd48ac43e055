using System.Diagnostics;

namespace Webhooks.Benchmarks.Harness;

/// <summary>CPU time, allocations and peak working set of this process over a stretch of a scenario.</summary>
internal sealed class ProcessMeter : IDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly Timer _sampler;
    private long _peakWorkingSet;
    private TimeSpan _cpuStart;
    private long _allocatedStart;

    public ProcessMeter()
    {
        _sampler = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
    }

    public void Start()
    {
        _process.Refresh();
        _cpuStart = _process.TotalProcessorTime;
        _allocatedStart = GC.GetTotalAllocatedBytes(precise: false);
        Interlocked.Exchange(ref _peakWorkingSet, Environment.WorkingSet);
    }

    public (TimeSpan Cpu, long Allocated, long PeakWorkingSet) Stop()
    {
        _process.Refresh();
        Sample();
        return (_process.TotalProcessorTime - _cpuStart, GC.GetTotalAllocatedBytes(precise: false) - _allocatedStart, Interlocked.Read(ref _peakWorkingSet));
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
