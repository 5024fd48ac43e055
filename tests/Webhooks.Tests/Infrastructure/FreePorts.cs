using System.Net;
using System.Net.Sockets;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// Finds TCP ports on 127.0.0.1 that nothing listens on, for servers that must be told their port before they bind.
/// </summary>
/// <remarks>
/// A port the system picks on a bind to port 0 comes from its ephemeral range, the same range every outgoing connection
/// takes its local port from: between the check here and the server's bind, a test's HTTP client could take it. The
/// ports handed out here lie below that range, where no connection is given one, and each only once per test run.
/// </remarks>
public static class FreePorts
{
    private const int Lowest = 10_000;
    private const int DefaultEphemeralStart = 32_768;

    private static readonly int Below = EphemeralStart();
    private static int _next = Lowest + Random.Shared.Next(Math.Max(1, (Below - Lowest) / 2));

    public static int Next()
    {
        while (true)
        {
            var port = Interlocked.Increment(ref _next);
            if (port >= Below)
            {
                throw new InvalidOperationException($"No free port left between {Lowest} and {Below}.");
            }

            if (IsFree(port))
            {
                return port;
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // Linux says where its ephemeral range starts; elsewhere the IANA range's start is assumed.
    private static int EphemeralStart()
    {
        try
        {
            var first = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split(default(char[]), StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return int.TryParse(first, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var start) && start > Lowest + 1_000 ? start : DefaultEphemeralStart;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return DefaultEphemeralStart;
        }
    }
}
