using System.Net;
using Microsoft.Extensions.Options;
using Webhooks.Security;

namespace Webhooks.Tests;

/// <summary>The SSRF guard: deliveries to internal addresses are refused, judged at connect time.</summary>
public sealed class SsrfTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.10.20.30", "loopback")]
    [InlineData("10.0.0.8", "private")]
    [InlineData("172.16.4.1", "private")]
    [InlineData("172.31.255.254", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("169.254.169.254", "link-local")]
    [InlineData("100.64.0.1", "CGNAT")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("192.0.2.10", "documentation")]
    [InlineData("::1", "loopback")]
    [InlineData("::", "unspecified")]
    [InlineData("fd12:3456::1", "unique local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("64:ff9b::a00:1", "NAT64")]
    public void Internal_and_reserved_addresses_are_refused_by_default(string address, string range)
    {
        var refusal = Policy().Refusal(IPAddress.Parse(address));

        Assert.NotNull(refusal);
        Assert.Contains(range, refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700:4700::1111")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(Policy().Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Allowed_networks_open_only_what_they_list()
    {
        var policy = Policy("10.1.0.0/16", "fd00:1::/64");

        Assert.Null(policy.Refusal(IPAddress.Parse("10.1.2.3")));
        Assert.Null(policy.Refusal(IPAddress.Parse("::ffff:10.1.2.3")));
        Assert.Null(policy.Refusal(IPAddress.Parse("fd00:1::5")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("10.2.0.1")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("127.0.0.1")));
    }

    [Fact]
    public async Task A_delivery_to_loopback_is_a_failed_attempt_with_a_clear_reason_by_address_and_by_name()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = receiver.BaseAddress.Port;
        var tenants = new TenantsYaml()
            .Tenant("by-address", $"http://127.0.0.1:{port}/hooks/by-address", retrySchedule: ["00:00:00.050"])
            .Tenant("by-name", $"http://localhost:{port}/hooks/by-name", retrySchedule: ["00:00:00.050"]);
        await using var cluster = await WebhookCluster.StartAsync(tenants, allowLoopback: false);

        var byAddress = await cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("by-address", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
        var byName = await cluster.ClientPublisher.PublishAsync(WebhookEvent.Create("by-name", WebhookEventNames.PriceUpdated, new { price_id = "p" }));

        foreach (var (tenant, id) in new[] { ("by-address", byAddress), ("by-name", byName) })
        {
            await Eventually.Until(async () => (await cluster.Tenant(tenant).GetStats()).Failed == 1, $"{tenant}'s event to fail");
            var attempts = await cluster.Tenant(tenant).GetAttempts(10);
            Assert.Equal(2, attempts.Length);
            Assert.All(attempts, attempt =>
            {
                Assert.Equal("refused", attempt.Outcome);
                Assert.Contains("SSRF guard", attempt.Error, StringComparison.Ordinal);
                Assert.Contains("loopback", attempt.Error, StringComparison.Ordinal);
            });
            Assert.Contains(cluster.SiloLogs, l => l.Message.Contains(id, StringComparison.Ordinal) && l.Message.Contains("refused", StringComparison.Ordinal));
        }

        Assert.Empty(receiver.All);
    }

    [Fact]
    public async Task An_allowed_network_that_is_not_a_cidr_stops_start_up()
    {
        var message = await SiloHost.FailToStartAsync("webhook:\n  tenants: {}\n", "security:\n  allowed_networks: [10.0.0.0/99]\n");

        Assert.Contains("security.allowed_networks", message, StringComparison.Ordinal);
        Assert.Contains("10.0.0.0/99", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Require_https_refuses_an_http_endpoint_at_start_up()
    {
        var message = await SiloHost.FailToStartAsync(
            "webhook:\n  tenants:\n    plain:\n      endpoint: http://hooks.example.com/in\n",
            "security:\n  require_https: true\n  allowed_networks: [127.0.0.0/8]\n");

        Assert.Contains("tenant 'plain', field 'endpoint': must be https", message, StringComparison.Ordinal);
    }

    private static NetworkPolicy Policy(params string[] allowed) =>
        new(Options.Create(new SecurityOptions { AllowedNetworks = [.. allowed] }));
}
