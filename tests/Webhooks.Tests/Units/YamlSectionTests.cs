using Webhooks.Configuration;

namespace Webhooks.Tests.Units;

/// <summary>
/// The YAML provider finds a section's children through its sorted keys instead of scanning every key; what it finds
/// must be exactly what the framework's provider finds, whatever the case and shape of the keys.
/// </summary>
public sealed class YamlSectionTests
{
    private const string Yaml = """
        webhook:
          enabled: true
          topic: webhooks
          tenants:
            t1:
              endpoint: https://hooks.example.com/t1
              headers:
                X-Api-Key: one
                x-trace: two
              excluded_events: [usage.recorded, price.deleted]
            t1-2:
              endpoint: https://hooks.example.com/t1-2
            T1x:
              endpoint: https://hooks.example.com/T1x
              enabled: false
            t10:
              endpoint: https://hooks.example.com/t10
              retry_schedule: ["00:00:01", "00:00:02"]
        delivery:
          timeout: 00:00:05
        """;

    [Fact]
    public void Every_section_has_the_same_children_as_with_the_framework_provider()
    {
        using var files = new TempDirectory();
        var path = files.Write("tenants.yaml", Yaml);
        var ours = new ConfigurationBuilder().AddWebhooksYamlFile(path).Build();
        var framework = new ConfigurationBuilder().AddYamlFile(path).Build();

        var compared = 0;
        var sections = new Queue<(IConfiguration Ours, IConfiguration Framework)>([(ours, framework)]);
        while (sections.TryDequeue(out var pair))
        {
            var expected = pair.Framework.GetChildren().Select(s => (s.Path, s.Value)).ToList();
            var actual = pair.Ours.GetChildren().Select(s => (s.Path, s.Value)).ToList();
            Assert.Equal(expected, actual);
            foreach (var (sectionPath, _) in expected)
            {
                sections.Enqueue((ours.GetSection(sectionPath), framework.GetSection(sectionPath)));
            }

            compared++;
        }

        // Every section was visited: the root, webhook, tenants, four tenants, their fields and lists.
        Assert.Equal(framework.AsEnumerable().Count() + 1, compared);
        Assert.Equal(["T1x", "t1", "t1-2", "t10"], ours.GetSection("webhook:tenants").GetChildren().Select(s => s.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Sections_are_found_whatever_the_case_of_the_path()
    {
        using var files = new TempDirectory();
        var path = files.Write("tenants.yaml", Yaml);
        var ours = new ConfigurationBuilder().AddWebhooksYamlFile(path).Build();

        Assert.Equal(["X-Api-Key", "x-trace"], ours.GetSection("WEBHOOK:Tenants:T1:HEADERS").GetChildren().Select(s => s.Key));
        Assert.Equal("false", ours["webhook:tenants:t1x:enabled"]);
        Assert.Equal(["0", "1"], ours.GetSection("webhook:tenants:t1:excluded_events").GetChildren().Select(s => s.Key));
    }

    [Fact]
    public void A_binding_of_many_tenants_reads_them_all()
    {
        using var files = new TempDirectory();
        var yaml = new System.Text.StringBuilder("webhook:\n  tenants:\n");
        for (var i = 0; i < 5_000; i++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"    tenant-{i:D5}:\n      endpoint: https://hooks.example.com/{i}\n      headers: {{ X-Id: \"{i}\" }}\n");
        }

        var configuration = new ConfigurationBuilder().AddWebhooksYamlFile(files.Write("tenants.yaml", yaml.ToString())).Build();
        var options = new WebhookOptions();
        new ConfigurationOrigin(configuration).Bind(WebhookOptions.SectionName, options);

        Assert.Equal(5_000, options.Tenants.Count);
        Assert.Equal("https://hooks.example.com/4321", options.Tenants["tenant-04321"].Endpoint);
        Assert.Equal("4321", options.Tenants["tenant-04321"].Headers["X-Id"]);
    }
}
