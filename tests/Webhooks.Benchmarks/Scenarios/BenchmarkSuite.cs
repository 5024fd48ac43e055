using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Webhooks.Benchmarks.Harness;
using Webhooks.Configuration;

namespace Webhooks.Benchmarks.Scenarios;

/// <summary>
/// Every scenario, in order, in one process: the receiver, the raw HTTP limit, the engine end to end, a single-tenant
/// burst, hanging endpoints, and memory per tenant.
/// </summary>
internal sealed class BenchmarkSuite(BenchmarkSizes sizes, IReadOnlySet<string>? only = null)
{
    private const int EngineWorkers = 256;
    private const int RawHalfRateWorkers = 64;
    private static readonly int[] RawConcurrency = [16, 64, 256];

    private readonly List<ScenarioResult> _results = [];
    private readonly List<StageBreakdown> _stages = [];
    private readonly DeliveryRecorder _recorder = new(sizes.Capacity);
    private double _raw;
    private double _rawP99AtHalf;

    public IReadOnlyList<ScenarioResult> Results => _results;

    /// <summary>Where the time from publish to arrival goes at half of each path's peak, from the engine's traces.</summary>
    public IReadOnlyList<StageBreakdown> Stages => _stages;

    public double RawReference => _raw;

    public async Task RunAsync()
    {
        Step("receiver", "Kestrel on 127.0.0.1, answering 200 after reading each body");
        await using var receiver = await BenchmarkReceiver.StartAsync();
        receiver.Recorder = _recorder;

        await RunRawAsync(receiver);

        var maxTenants = sizes.TenantCounts.Max();
        var tenants = Enumerable.Range(0, maxTenants).Select(i => ($"t{i}", new Uri(receiver.Address, $"/ok/t{i}").ToString()))
            .Concat(Enumerable.Range(0, sizes.HangTenants).Select(i => ($"g{i}", new Uri(receiver.Address, i % 10 == 0 ? $"/hang/g{i}" : $"/ok/g{i}").ToString())))
            .Concat(new[] { "m", "n" }.SelectMany(prefix => Enumerable.Range(0, sizes.ActiveTenants).Select(i => ($"{prefix}{i}", new Uri(receiver.Address, $"/ok/{prefix}{i}").ToString()))))
            .ToList();
        Step("engine", $"co-hosted silo with {tenants.Count:N0} tenants configured");
        await using var engine = await EngineHost.StartAsync(tenants, sizes.DeliveryTimeout);

        if (Selected("floor"))
        {
            await RunFloorAsync(engine, receiver);
        }

        if (Selected("e2e"))
        {
            await RunEndToEndAsync(engine);
        }

        if (Selected("latency"))
        {
            await RunHalfPeakLatencyAsync(engine, receiver);
        }

        if (Selected("stages"))
        {
            await RunStagesAsync(engine);
        }

        if (Selected("burst"))
        {
            await RunBurstAsync(engine);
        }

        if (Selected("hang"))
        {
            await RunHangAsync(engine, receiver);
        }

        if (Selected("memory"))
        {
            await RunMemoryAsync(engine);
        }
    }

    private bool Selected(string scenario) => only is null || only.Contains(scenario);

    private static HttpClient RawClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    });

    private async Task RunRawAsync(BenchmarkReceiver receiver)
    {
        using var client = RawClient();
        var endpoint = new Uri(receiver.Address, "/ok/raw");
        var best = await BestOfAsync(
            RawConcurrency,
            concurrency => ("raw limit", $"HttpClient, {concurrency} concurrent posts, no engine", $"raw x{concurrency}"),
            seq => PostRawAsync(client, endpoint, seq),
            (concurrency, stats) => Report(ScenarioResult.From($"raw_c{concurrency}", "raw_http", 1, stats, 0)));
        _raw = best.DeliveriesPerSecond;
        Step("raw limit", $"reference: {_raw:N0} deliveries/s");

        var half = await RawAtHalfRateAsync("raw at half rate", client, endpoint, sizes.Measure);
        _rawP99AtHalf = half.P99Ms;
        Report(ScenarioResult.From("raw_half_rate", "raw_http", 1, half, _raw));
    }

    // The raw client, open loop, at half the raw limit: the p99 the latency target compares with.
    private Task<RunStats> RawAtHalfRateAsync(string label, HttpClient client, Uri endpoint, TimeSpan measure) =>
        Workload.RunAsync(label, _recorder, RawHalfRateWorkers, seq => PostRawAsync(client, endpoint, seq), sizes.Warmup, measure, _raw / 2);

    // What Orleans alone costs per event, measured like the raw limit: the same posts, each after a call to a grain of
    // the event's tenant that does nothing (the least a grain Publish costs), then also after a call to a stateless
    // worker (the least a payload-builder grain adds). None of the engine runs, so the ratios these reach bound what any
    // design that makes those calls per event can reach on this machine.
    private async Task RunFloorAsync(EngineHost engine, BenchmarkReceiver receiver)
    {
        var count = sizes.TenantCounts.Max();
        using var client = RawClient();
        var endpoint = new Uri(receiver.Address, "/ok/floor");
        foreach (var calls in new[] { 1, 2 })
        {
            var best = await BestOfAsync(
                sizes.FloorConcurrency,
                concurrency => ("floor", $"{concurrency} concurrent posts, each after {(calls == 1 ? "a call" : "two calls")} to no-op grains ({count:N0} tenant grains)", $"floor {calls} x{concurrency}"),
                seq => PostAfterCallsAsync(engine, calls, $"t{seq % count}", client, endpoint, seq));
            Report(ScenarioResult.From($"floor_{calls}_grain_call{(calls == 1 ? "" : "s")}_{count}", "floor", count, best, _raw));
        }
    }

    // Runs the workload at each of the given concurrency levels and keeps the fastest run.
    private async Task<RunStats> BestOfAsync(int[] levels, Func<int, (string Scenario, string What, string Label)> describe, Func<int, Task<bool>> post, Action<int, RunStats>? reportEach = null)
    {
        RunStats? best = null;
        foreach (var concurrency in levels)
        {
            var (scenario, what, label) = describe(concurrency);
            Step(scenario, what);
            var stats = await Workload.RunAsync(label, _recorder, concurrency, post, sizes.Warmup, sizes.Measure);
            reportEach?.Invoke(concurrency, stats);
            if (best is null || stats.DeliveriesPerSecond > best.DeliveriesPerSecond)
            {
                best = stats;
            }
        }

        return best!;
    }

    private static async Task<bool> PostAfterCallsAsync(EngineHost engine, int calls, string tenant, HttpClient client, Uri endpoint, int seq)
    {
        var webhookEvent = Usage(tenant, seq);
        await engine.Grains.GetGrain<IFloorTenantGrain>(tenant).Take(webhookEvent);
        if (calls > 1)
        {
            await engine.Grains.GetGrain<IFloorWorkerGrain>(0).Take(webhookEvent);
        }

        return await PostRawAsync(client, endpoint, seq);
    }

    private async Task RunEndToEndAsync(EngineHost engine)
    {
        foreach (var count in sizes.TenantCounts)
        {
            foreach (var path in new[] { "gateway", "grain" })
            {
                Step("end to end", $"{count:N0} tenant(s) through the {(path == "gateway" ? "gateway and stream" : "direct grain Publish")}");
                await EndToEndAsync(engine, path, count);
            }
        }
    }

    // One path's peak with this many tenants, reported as its end-to-end scenario.
    private async Task<ScenarioResult> EndToEndAsync(EngineHost engine, string path, int count)
    {
        var result = ScenarioResult.From($"e2e_{path}_{count}", path, count, await RunEngineAsync($"{path} {count}", engine, path, count, sizes.Measure), _raw);
        Report(result);
        return result;
    }

    // The engine's publishers, spread over the tenants t0.., as fast as they are let or open loop at a rate.
    private Task<RunStats> RunEngineAsync(string label, EngineHost engine, string path, int count, TimeSpan measure, double? rate = null, Func<int, string>? eventId = null) =>
        Workload.RunAsync(label, _recorder, EngineWorkers, seq => PublishAsync(engine, path, $"t{seq % count}", seq, eventId: eventId?.Invoke(seq)), sizes.Warmup, measure, rate);

    // A p99 moves with every spell of noise on a shared machine. Each path's half-rate runs therefore alternate with
    // the raw client's own half-rate runs, round by round, and each side reports its median round: the two p99s that
    // are compared met the same spells.
    private async Task RunHalfPeakLatencyAsync(EngineHost engine, BenchmarkReceiver receiver)
    {
        var count = sizes.TenantCounts[1];
        using var client = RawClient();
        var endpoint = new Uri(receiver.Address, "/ok/raw");
        var measure = sizes.Measure / 2;
        foreach (var path in new[] { "gateway", "grain" })
        {
            if (await PeakAsync(engine, path, count, "latency") is not { } peak)
            {
                continue;
            }

            var rawRounds = new List<RunStats>();
            var engineRounds = new List<RunStats>();
            for (var round = 1; round <= sizes.HalfRateRounds; round++)
            {
                Step("latency", $"round {round} of {sizes.HalfRateRounds}: the raw client at half its peak ({_raw / 2:N0}/s), then the {path} path, {count:N0} tenants, open loop at half of its peak ({peak / 2:N0}/s)");
                rawRounds.Add(await RawAtHalfRateAsync($"raw half rate {round}", client, endpoint, measure));
                engineRounds.Add(await RunEngineAsync($"{path} half rate {round}", engine, path, count, measure, peak / 2));
                Console.WriteLine($"    -> p99 {engineRounds[^1].P99Ms:0.0} ms against the raw client's {rawRounds[^1].P99Ms:0.0} ms ({engineRounds[^1].P99Ms / rawRounds[^1].P99Ms:0.0} x)");
            }

            Report(ScenarioResult.From($"raw_beside_{path}_half_rate", "raw_http", 1, MedianByP99(rawRounds), _raw));
            Report(ScenarioResult.From($"e2e_{path}_half_rate", path, count, MedianByP99(engineRounds), _raw));
        }
    }

    // The path's peak from its end-to-end run; measured first when that did not run. Null when nothing was delivered
    // in its window, as can happen to a short run straight after the silo starts: there is no rate to halve.
    private async Task<double?> PeakAsync(EngineHost engine, string path, int count, string scenario)
    {
        if (_results.SingleOrDefault(r => r.Name == $"e2e_{path}_{count}") is not { } peakResult)
        {
            Step(scenario, $"peak of the {path} path with {count:N0} tenants");
            peakResult = await EndToEndAsync(engine, path, count);
        }

        if (peakResult.DeliveriesPerS > 0)
        {
            return peakResult.DeliveriesPerS;
        }

        Console.WriteLine($"    -> the {path} path delivered nothing in its peak window; its {scenario} runs are skipped");
        return null;
    }

    // Each path once more at half of its peak, with the engine's delivery traces recorded and split into stages. The
    // traces cost time of their own, so these runs report no scenario figures.
    private async Task RunStagesAsync(EngineHost engine)
    {
        var count = sizes.TenantCounts[1];
        foreach (var path in new[] { "gateway", "grain" })
        {
            if (await PeakAsync(engine, path, count, "stages") is not { } peak)
            {
                continue;
            }

            Step("stages", $"the {path} path, {count:N0} tenants, open loop at half of its peak ({peak / 2:N0}/s), with the delivery traces recorded");
            using var stages = new DeliveryStages($"stages-{path}-", _recorder.Capacity);
            var from = Stopwatch.GetTimestamp() + (long)(sizes.Warmup.TotalSeconds * Stopwatch.Frequency);
            await RunEngineAsync($"{path} stages", engine, path, count, sizes.Measure / 2, peak / 2, stages.EventId);
            var (events, figures) = stages.Summarize(_recorder, from);
            _stages.Add(new StageBreakdown(path, count, peak / 2, events, figures));
            Console.WriteLine($"    -> {events:N0} events: " + string.Join(", ", figures.Select(f => $"{f.Name} p50 {f.P50Ms:0.00} / p99 {f.P99Ms:0.00} ms")));
        }
    }

    // The round whose p99 is the median of the rounds', with the rest of that round's figures.
    private static RunStats MedianByP99(List<RunStats> rounds) => rounds.OrderBy(r => r.P99Ms).ElementAt(rounds.Count / 2);

    private async Task RunBurstAsync(EngineHost engine)
    {
        Step("burst", $"{sizes.BurstEvents:N0} events to one tenant, as fast as the gateway takes them");
        _recorder.Reset();
        using var meter = new ProcessMeter();
        meter.Start();
        var started = Stopwatch.GetTimestamp();
        var accepted = 0;
        await Parallel.ForAsync(0, sizes.BurstEvents, new ParallelOptions { MaxDegreeOfParallelism = EngineWorkers }, async (_, _) =>
        {
            var seq = _recorder.Next();
            _recorder.Sent(seq);
            if (await PublishAsync(engine, "gateway", "t0", seq))
            {
                Interlocked.Increment(ref accepted);
            }
        });
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
        while (_recorder.Delivered < accepted && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var usage = meter.Stop();
        var latencies = _recorder.LatenciesMs(0, long.MaxValue);
        Array.Sort(latencies);
        var stats = new RunStats(
            _recorder.Delivered / elapsed.TotalSeconds,
            Workload.Percentile(latencies, 0.5),
            Workload.Percentile(latencies, 0.99),
            accepted,
            _recorder.Delivered,
            sizes.BurstEvents - _recorder.Delivered,
            _recorder.Duplicates,
            usage.Cpu.TotalMilliseconds / Math.Max(1, _recorder.Delivered),
            (double)usage.Allocated / Math.Max(1, _recorder.Delivered),
            usage.PeakWorkingSet / (1024.0 * 1024.0),
            usage.PauseShareOver(elapsed),
            usage.MeanPauseMs);
        Report(ScenarioResult.From($"burst_{sizes.BurstEvents}", "gateway", 1, stats, _raw));
    }

    private async Task RunHangAsync(EngineHost engine, BenchmarkReceiver receiver)
    {
        var count = sizes.HangTenants;

        // Every tenth tenant's endpoint may hang, and one event in ten goes to those tenants. Their publishers are not
        // the healthy tenants' publishers, as in a host where each tenant's requests publish their own events: they
        // run beside the workers, a bounded number at a time, and give up when a hanging tenant's buffer stays full.
        var hangingPublishers = new SemaphoreSlim(EngineWorkers);
        Task<bool> Publish(int seq)
        {
            var index = seq % count;
            if (seq % 10 != 0)
            {
                return PublishAsync(engine, "gateway", $"g{(index % 10 == 0 ? index + 1 : index)}", seq);
            }

            if (!hangingPublishers.Wait(0))
            {
                return Task.FromResult(false);
            }

            _ = PublishAsync(engine, "gateway", $"g{index / 10 * 10}", seq, retry: false)
                .ContinueWith(_ => hangingPublishers.Release(), TaskScheduler.Default);
            return Task.FromResult(false);
        }

        foreach (var hang in new[] { false, true })
        {
            receiver.HangEnabled = hang;
            Step("hang", $"{count:N0} tenants, 10% {(hang ? "hanging until the timeout" : "healthy (baseline)")}");
            // The warm-up outlasts a delivery timeout, so that the measurement sees the engine settled with the hangs.
            var stats = await Workload.RunAsync(hang ? "with hangs" : "baseline", _recorder, EngineWorkers, Publish, sizes.Warmup + sizes.DeliveryTimeout + TimeSpan.FromSeconds(1), sizes.Measure, watched: seq => seq % 10 != 0, deliveredCounter: () => _recorder.WatchedDelivered);
            Report(ScenarioResult.From(hang ? "hang_healthy_tenants" : "hang_baseline", "gateway", count, stats with { Lost = 0 }, _raw));
        }

        receiver.HangEnabled = false;
    }

    private async Task RunMemoryAsync(EngineHost engine)
    {
        Step("memory", $"{sizes.ConfiguredTenants:N0} tenants configured");
        // What a silo keeps for its tenants: the loaded tenants.yaml, the bound options and the compiled settings.
        var file = TenantsFile.Write(Enumerable.Range(0, sizes.ConfiguredTenants).Select(i => ($"tenant-{i:D6}", $"https://hooks.example.com/in/tenant-{i:D6}")));
        // The heap is read once it has settled, as earlier scenarios still release what they held: read at once, a
        // short run's figure could come out below zero.
        var before = await SettledHeapAsync();
        var loading = Stopwatch.StartNew();
        var configuration = new ConfigurationBuilder().AddWebhooksYamlFile(file).Build();
        var options = new WebhookOptions();
        new ConfigurationOrigin(configuration).Bind(WebhookOptions.SectionName, options);
        var settings = WebhookSettings.Compile(options);
        loading.Stop();
        var perConfigured = (await SettledHeapAsync() - before) / (double)sizes.ConfiguredTenants;
        Console.WriteLine($"    -> {sizes.ConfiguredTenants:N0} tenants loaded from YAML, bound and compiled in {loading.Elapsed.TotalSeconds:N1} s");
        GC.KeepAlive(configuration);
        GC.KeepAlive(options);
        GC.KeepAlive(settings);
        Report(Memory("memory_configured_tenant", sizes.ConfiguredTenants, perConfigured));

        Step("memory", $"{sizes.ActiveTenants:N0} tenant grains activated, one delivery each");

        // Two equal batches: the first warms what grows once (code, pools, the catalog's tables), the second is
        // measured. The heap is read only once it has settled, as earlier scenarios still release what they held.
        await ActivateAsync(engine, "m", sizes.ActiveTenants);
        before = await SettledHeapAsync();
        await ActivateAsync(engine, "n", sizes.ActiveTenants);
        var perActive = (await SettledHeapAsync() - before) / (double)sizes.ActiveTenants;
        Report(Memory("memory_active_tenant_grain", sizes.ActiveTenants, perActive));
    }

    private async Task ActivateAsync(EngineHost engine, string prefix, int count)
    {
        _recorder.Reset();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            var seq = _recorder.Next();
            _recorder.Sent(seq);
            await PublishAsync(engine, "gateway", $"{prefix}{i}", seq);
        });

        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 120);
        while (_recorder.Delivered < count)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException($"Only {_recorder.Delivered:N0} of {count:N0} tenant grains delivered their event within 2 minutes.");
            }

            await Task.Delay(20);
        }
    }

    // The heap once two readings half a second apart differ by less than 1%, or after 10 seconds.
    private static async Task<long> SettledHeapAsync()
    {
        var deadline = Stopwatch.GetTimestamp() + (Stopwatch.Frequency * 10);
        var last = Heap();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(500);
            var current = Heap();
            if (Math.Abs(current - last) < last / 100)
            {
                return current;
            }

            last = current;
        }

        return last;
    }

    private static ScenarioResult Memory(string name, int tenants, double bytesPerTenant) =>
        new(name, "memory", tenants, 0, 0, 0, 0, 0, 0, 0, Math.Round(Environment.WorkingSet / (1024.0 * 1024.0), 1), 0, 0) { BytesPerTenant = Math.Round(bytesPerTenant, 0) };

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<bool> PublishAsync(EngineHost engine, string path, string tenant, int seq, bool retry = true, string? eventId = null)
    {
        var webhookEvent = eventId is null ? Usage(tenant, seq) : Usage(tenant, seq) with { Id = eventId };
        while (true)
        {
            try
            {
                if (path == "gateway")
                {
                    await engine.Publisher.PublishAsync(webhookEvent);
                }
                else
                {
                    await engine.Grains.GetGrain<ITenantWebhookGrain>(tenant).Publish(webhookEvent);
                }

                return true;
            }
            catch (WebhookOverflowException) when (retry)
            {
                // Backpressure: the publisher waits a moment and offers the same event again.
                await Task.Delay(1);
            }
            catch (WebhookOverflowException)
            {
                return false;
            }
        }
    }

    private static async Task<bool> PostRawAsync(HttpClient client, Uri endpoint, int seq)
    {
        using var content = new ByteArrayContent(RawBody(seq));
        content.Headers.ContentType = new("application/json");
        using var response = await client.PostAsync(endpoint, content);
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static WebhookEvent Usage(string tenant, int seq) =>
        new() { TenantId = tenant, EventName = WebhookEventNames.UsageRecorded, Payload = Payload(seq) };

    private static string Payload(int seq) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"customer_id":"cus_000123","meter":"api_calls","quantity":1,"seq":{{seq}}}""");

    // The same shape and size as the body the engine delivers.
    private static byte[] RawBody(int seq) => Encoding.UTF8.GetBytes(string.Create(
        CultureInfo.InvariantCulture,
        $$"""{"id":"{{Guid.NewGuid()}}","event_name":"usage.recorded","timestamp":"{{DateTime.UtcNow:yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'}}","tenant_id":"t1","payload":{{Payload(seq)}}}"""));

    private static void Step(string scenario, string what) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {scenario}: {what}");

    private void Report(ScenarioResult result)
    {
        _results.Add(result);
        Console.WriteLine(result.BytesPerTenant is { } bytes
            ? $"    -> {bytes:N0} bytes per tenant"
            : $"    -> {result.DeliveriesPerS:N0} deliveries/s ({result.RatioToRaw:0.00} x raw), p50 {result.P50Ms:0.0} ms, p99 {result.P99Ms:0.0} ms, lost {result.Lost}");
    }

    /// <summary>The raw limit's p99 at half its peak rate, for the latency target.</summary>
    public double RawP99AtHalfRate => _rawP99AtHalf;
}
