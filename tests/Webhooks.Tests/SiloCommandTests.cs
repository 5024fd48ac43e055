using Microsoft.Extensions.Options;
using Webhooks.Configuration;
using Webhooks.Silo.Hosting;

namespace Webhooks.Tests;

/// <summary>The runnable silo's command line and configuration layering.</summary>
public sealed class SiloCommandTests
{
    private const string NoTenants = "webhook:\n  tenants: {}\n";

    [Fact]
    public void Without_arguments_it_reads_both_files_from_the_working_directory_if_present()
    {
        var startup = SiloCommand.ToStartup(SiloCommand.Create().Parse([]));

        Assert.Equal(new SiloStartup("silo.yaml", false, "tenants.yaml", false, []), startup with { ConfigurationArgs = [] });
        Assert.Empty(startup.ConfigurationArgs);
    }

    [Fact]
    public void Named_files_are_required_and_other_arguments_are_configuration_overrides()
    {
        var startup = SiloCommand.ToStartup(SiloCommand.Create().Parse(
            ["--silo-config", "/etc/webhooks/silo.yaml", "--tenants-config", "/etc/webhooks/tenants.yaml", "--urls", "http://127.0.0.1:8080", "--delivery:timeout=00:00:03"]));

        Assert.Equal("/etc/webhooks/silo.yaml", startup.SiloConfigPath);
        Assert.True(startup.SiloConfigRequired);
        Assert.Equal("/etc/webhooks/tenants.yaml", startup.TenantsConfigPath);
        Assert.True(startup.TenantsConfigRequired);
        Assert.Equal(["--urls", "http://127.0.0.1:8080", "--delivery:timeout=00:00:03"], startup.ConfigurationArgs);
    }

    [Fact]
    public async Task The_command_line_overrides_silo_yaml_and_urls_overrides_its_address()
    {
        var yamlAddress = SiloHost.ReserveAddress();
        var address = SiloHost.ReserveAddress();

        await using var silo = await SiloHost.StartAsync(
            NoTenants,
            $"urls: {yamlAddress}\ndelivery:\n  buffer_size: 10\n  max_concurrency: 3\n",
            address,
            "--delivery:buffer_size=77");

        Assert.Equal(address, silo.BaseAddress);
        var delivery = silo.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value;
        Assert.Equal(77, delivery.BufferSize);
        Assert.Equal(3, delivery.MaxConcurrency);
    }

    [Fact]
    public async Task The_environment_overrides_silo_yaml()
    {
        Environment.SetEnvironmentVariable("delivery__max_concurrency", "5");
        try
        {
            await using var silo = await SiloHost.StartAsync(NoTenants, "delivery:\n  max_concurrency: 3\n");

            Assert.Equal(5, silo.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value.MaxConcurrency);
        }
        finally
        {
            Environment.SetEnvironmentVariable("delivery__max_concurrency", null);
        }
    }

    [Fact]
    public async Task Without_any_file_it_runs_on_embedded_defaults()
    {
        using var empty = new TempDirectory();
        var address = SiloHost.ReserveAddress();
        var startup = new SiloStartup(
            Path.Combine(empty.Path, "silo.yaml"), false,
            Path.Combine(empty.Path, "tenants.yaml"), false,
            ["--urls", address.ToString(), $"--orleans:silo_port={FreePorts.Next()}", $"--orleans:gateway_port={FreePorts.Next()}"]);

        await using var app = SiloApplication.Build(startup);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = address };

        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(new DeliveryOptions().BufferSize, app.Services.GetRequiredService<IOptions<DeliveryOptions>>().Value.BufferSize);
        Assert.Equal(WebhookStreams.DefaultTopic, app.Services.GetRequiredService<IOptions<WebhookOptions>>().Value.Topic);
        await app.StopAsync();
    }
}
