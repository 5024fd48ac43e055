using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Webhooks.Tests.Infrastructure;

/// <summary>A real <c>redis-server</c> on 127.0.0.1 at a free port, with no persistence of its own, stopped afterwards.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly TempDirectory _directory;
    private Process _process;

    private RedisServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Stops the server, as an outage would.</summary>
    public async Task StopAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Starts the server again on the same port.</summary>
    public async Task RestartAsync()
    {
        _process.Dispose();
        _process = Process.Start(StartInfo(Port, _directory))!;
        await Eventually.Until(PingAsync, $"redis-server to answer on port {Port} again", TimeSpan.FromSeconds(20));
    }

    private static ProcessStartInfo StartInfo(int port, TempDirectory directory) => new("redis-server")
    {
        ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.Path },
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };

    public static async Task<RedisServer> StartAsync()
    {
        var port = FreePorts.Next();
        var directory = new TempDirectory();
        var start = StartInfo(port, directory);
        Process process;
        try
        {
            await EnsureInstalledAsync();
            process = Process.Start(start)!;
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            directory.Dispose();
            throw new InvalidOperationException("redis-server is not installed and could not be installed; install it with 'apt-get install -y redis-server'.", ex);
        }

        var server = new RedisServer(process, directory, port);
        await Eventually.Until(server.PingAsync, $"redis-server to answer on port {port}", TimeSpan.FromSeconds(20));
        return server;
    }

    private static readonly SemaphoreSlim InstallLock = new(1, 1);

    // A fresh machine has no redis-server: install it once, as root or through non-interactive sudo.
    private static async Task EnsureInstalledAsync()
    {
        await InstallLock.WaitAsync();
        try
        {
            if (await RunAsync("sh", "-c", "command -v redis-server") == 0)
            {
                return;
            }

            var asRoot = await RunAsync("sh", "-c", "[ \"$(id -u)\" -eq 0 ]") == 0;
            string[] prefix = asRoot ? [] : ["sudo", "-n"];
            await RunAsync([.. prefix, "apt-get", "update", "-qq"]);
            if (await RunAsync([.. prefix, "apt-get", "install", "-y", "-qq", "redis-server"]) != 0)
            {
                throw new InvalidOperationException("apt-get could not install redis-server.");
            }
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<int> RunAsync(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Dispose();
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            await using var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
