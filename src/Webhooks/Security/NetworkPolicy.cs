using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Webhooks.Security;

/// <summary>
/// The SSRF guard: the addresses a delivery may connect to. It is applied to the address resolved at connect time, so a
/// name that resolves, or later re-resolves, to an internal address is refused all the same.
/// </summary>
internal sealed class NetworkPolicy
{
    // Loopback, private, link-local, CGNAT, multicast, unspecified, and the other special-purpose ranges (RFC 6890).
    private static readonly (IPNetwork Network, string Name)[] Blocked =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this network (unspecified)"),
        (IPNetwork.Parse("10.0.0.0/8"), "private (RFC 1918)"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared address space (CGNAT)"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata among them)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private (RFC 1918)"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.0.2.0/24"), "documentation (TEST-NET-1)"),
        (IPNetwork.Parse("192.88.99.0/24"), "6to4 relay anycast"),
        (IPNetwork.Parse("192.168.0.0/16"), "private (RFC 1918)"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("198.51.100.0/24"), "documentation (TEST-NET-2)"),
        (IPNetwork.Parse("203.0.113.0/24"), "documentation (TEST-NET-3)"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved (broadcast among them)"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("64:ff9b::/96"), "NAT64"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "local-use NAT64"),
        (IPNetwork.Parse("100::/64"), "discard-only"),
        (IPNetwork.Parse("2001::/23"), "IETF protocol assignments"),
        (IPNetwork.Parse("2001:db8::/32"), "documentation"),
        (IPNetwork.Parse("2002::/16"), "6to4"),
        (IPNetwork.Parse("fc00::/7"), "unique local (private)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local (deprecated)"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private readonly IPNetwork[] _allowed;

    public NetworkPolicy(IOptions<SecurityOptions> options)
    {
        _allowed = [.. options.Value.AllowedNetworks.Select(network => IPNetwork.Parse(network))];
    }

    /// <summary>Returns why a delivery may not connect to <paramref name="address"/>, or null when it may.</summary>
    public string? Refusal(IPAddress address)
    {
        // An IPv4 address written as IPv6 is judged as the IPv4 address it is.
        var effective = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (_allowed.Any(network => Contains(network, effective)))
        {
            return null;
        }

        foreach (var (network, name) in Blocked)
        {
            if (Contains(network, effective))
            {
                return $"{effective} is in a blocked range: {name} ({network})";
            }
        }

        return null;
    }

    /// <summary>Connects to the first allowed address of <paramref name="endpoint"/>, resolving its name here and now.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var allowed = addresses.Where(address => Refusal(address) is null).ToArray();
        if (allowed.Length == 0)
        {
            var reasons = string.Join("; ", addresses.Select(address => Refusal(address)).Distinct());
            throw new DeliveryRefusedException(
                $"refused by the SSRF guard: {endpoint.Host} resolves to {reasons}. Allow it in security.allowed_networks if it is meant to receive webhooks.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool Contains(IPNetwork network, IPAddress address) =>
        network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address);
}

/// <summary>A delivery that the engine refused to make, such as one to a blocked address.</summary>
public sealed class DeliveryRefusedException(string message) : Exception(message);
