using System.CommandLine;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using Webhooks.Benchmarks.Reporting;
using Webhooks.Benchmarks.Scenarios;

// Webhooks.Orleans benchmarks: every scenario in one run, measured against the raw HTTP limit of the same machine.
var quick = new Option<bool>("--quick") { Description = "Run the same scenarios smaller, in under a minute and a half, to check that they work." };
var json = new Option<string?>("--json") { Description = "Write a machine-readable summary to this path." };
var results = new Option<string>("--results") { Description = "Folder for the JSON and the chart.", DefaultValueFactory = _ => "results" };
var only = new Option<string[]>("--only") { Description = "Run only these scenarios (the raw limit always runs): floor, e2e, latency, stages, burst, hang, memory.", AllowMultipleArgumentsPerToken = true };
var root = new RootCommand("Runs every benchmark scenario and prints a table.") { quick, json, results, only };
root.SetAction(async (parse, cancellationToken) =>
{
    var sizes = parse.GetValue(quick) ? BenchmarkSizes.Quick : BenchmarkSizes.Full;
    var machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024.0):0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    Console.WriteLine($"Webhooks.Orleans benchmarks ({(parse.GetValue(quick) ? "quick" : "full")}) on {machine}");
    var selected = parse.GetValue(only) is { Length: > 0 } names ? names.ToHashSet(StringComparer.OrdinalIgnoreCase) : null;
    var suite = new BenchmarkSuite(sizes, selected);
    await suite.RunAsync();

    ResultWriter.PrintTable(suite.Results);
    ResultWriter.PrintStages(suite.Stages);
    var targets = ResultWriter.Targets(suite.Results, suite.RawP99AtHalfRate, sizes.TenantCounts);
    foreach (var line in targets)
    {
        Console.WriteLine(line);
    }

    var folder = parse.GetValue(results)!;
    var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
    var jsonPath = parse.GetValue(json) ?? Path.Combine(folder, $"benchmark-{stamp}.json");
    await ResultWriter.WriteJsonAsync(jsonPath, suite.Results, suite.Stages, targets, machine);
    var chart = Path.Combine(folder, $"benchmark-{stamp}.png");
    ResultWriter.WriteChart(chart, suite.Results, suite.RawReference);
    Console.WriteLine($"Wrote {jsonPath} and {chart}");
    return 0;
});

var micro = new Command("micro", "Runs the BenchmarkDotNet micro-benchmarks (payload building and serialization); other arguments go to BenchmarkDotNet.");
micro.TreatUnmatchedTokensAsErrors = false;
micro.SetAction(parse =>
{
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. parse.UnmatchedTokens]);
    return 0;
});
root.Subcommands.Add(micro);

return await root.Parse(args).InvokeAsync();
