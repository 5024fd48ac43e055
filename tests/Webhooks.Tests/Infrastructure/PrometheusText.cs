using System.Globalization;
using System.Text.RegularExpressions;

namespace Webhooks.Tests.Infrastructure;

/// <summary>Reads metrics from the Prometheus text format that <c>/metrics</c> serves.</summary>
public static partial class PrometheusText
{
    /// <summary>Adds up the samples of a metric, optionally only those with a label of a value.</summary>
    public static double Sum(string text, string metric, string? label = null, string? value = null) =>
        text.Split('\n')
            .Where(line => line.StartsWith(metric + "{", StringComparison.Ordinal) || line.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(line => label is null || line.Contains($"{label}=\"{value}\"", StringComparison.Ordinal))
            .Sum(line => double.Parse(SampleValue().Match(line).Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"\s(\S+)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
