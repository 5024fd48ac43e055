using System.Collections.Concurrent;
using System.Diagnostics;
using Webhooks.Silo.Hosting;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// The runnable silo as its own operating-system process, so that a test can kill it (SIGKILL) or stop it (SIGTERM)
/// the way an orchestrator would.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private SiloProcess(Process process, ConcurrentQueue<string> output, Uri address)
    {
        _process = process;
        _output = output;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public Uri Address { get; }

    public HttpClient Http { get; }

    /// <summary>What the silo printed, for a failing test's message.</summary>
    public string Output => string.Join(Environment.NewLine, _output);

    public static async Task<SiloProcess> StartAsync(string siloYamlPath, string tenantsYamlPath, Uri address)
    {
        var siloDll = typeof(SiloCommand).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                siloDll,
                "--silo-config", siloYamlPath,
                "--tenants-config", tenantsYamlPath,
                "--urls", address.ToString(),
                $"--orleans:silo_port={FreePorts.Next()}",
                $"--orleans:gateway_port={FreePorts.Next()}",
            },
            WorkingDirectory = Path.GetDirectoryName(siloYamlPath)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) { output.Enqueue(line.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var silo = new SiloProcess(process, output, address);
        try
        {
            await Eventually.Until(silo.IsHealthyAsync, $"the silo process to serve /healthz at {address}", TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            await silo.DisposeAsync();
            throw new TimeoutException($"{ex.Message}{Environment.NewLine}{silo.Output}", ex);
        }

        return silo;
    }

    /// <summary>Kills the process outright (SIGKILL): nothing gets a chance to finish or to be stored.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the process to stop (SIGTERM), as an orchestrator does, and waits for it to exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task<bool> IsHealthyAsync()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"The silo process exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
        }

        try
        {
            return (await Http.GetAsync("/healthz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
