using System.CommandLine;
using Webhooks.Configuration;
using Webhooks.Security;

namespace Webhooks.Silo.Hosting;

/// <summary>The silo's command line: where its two files are; anything else is a .NET configuration override.</summary>
internal static class SiloCommand
{
    public const string DefaultSiloConfig = "silo.yaml";
    public const string DefaultTenantsConfig = "tenants.yaml";

    private static readonly Option<string?> SiloConfig = new("--silo-config")
    {
        Description = $"Path of the silo settings file. Default: {DefaultSiloConfig} in the working directory, if present.",
    };

    private static readonly Option<string?> TenantsConfig = new("--tenants-config")
    {
        Description = $"Path of the tenants file. Default: {DefaultTenantsConfig} in the working directory, if present.",
    };

    public static RootCommand Create()
    {
        var command = new RootCommand(
            "Runs a Webhooks.Orleans silo. Any other argument overrides a setting the .NET way, for example --urls http://127.0.0.1:8080 or --delivery:timeout=00:00:05.")
        {
            SiloConfig,
            TenantsConfig,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((result, cancellationToken) => RunAsync(ToStartup(result), cancellationToken));

        var secret = new Command("secret", "Prints a new Standard Webhooks signing secret (whsec_…) for a tenant's 'secret'.");
        secret.SetAction(result => result.InvocationConfiguration.Output.WriteLine(SigningSecret.Generate()));
        command.Subcommands.Add(secret);
        return command;
    }

    /// <summary>Reads what a parsed command line asks for.</summary>
    public static SiloStartup ToStartup(ParseResult result) => new(
        result.GetValue(SiloConfig) ?? DefaultSiloConfig,
        result.GetValue(SiloConfig) is not null,
        result.GetValue(TenantsConfig) ?? DefaultTenantsConfig,
        result.GetValue(TenantsConfig) is not null,
        [.. result.UnmatchedTokens]);

    private static async Task<int> RunAsync(SiloStartup startup, CancellationToken cancellationToken)
    {
        try
        {
            await using var app = SiloApplication.Build(startup);
            await app.RunAsync(cancellationToken);
            return 0;
        }
        catch (Exception ex) when (StartupError.Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync($"Webhooks.Orleans silo did not start:{Environment.NewLine}{message}");
            return 1;
        }
    }
}

/// <summary>What the command line asked for.</summary>
/// <param name="SiloConfigPath">The silo settings file.</param>
/// <param name="SiloConfigRequired">Whether it was named explicitly, so that a missing file is an error.</param>
/// <param name="TenantsConfigPath">The tenants file.</param>
/// <param name="TenantsConfigRequired">Whether it was named explicitly.</param>
/// <param name="ConfigurationArgs">Arguments left for the .NET command-line configuration provider.</param>
internal sealed record SiloStartup(
    string SiloConfigPath,
    bool SiloConfigRequired,
    string TenantsConfigPath,
    bool TenantsConfigRequired,
    string[] ConfigurationArgs);

/// <summary>Turns a start-up failure caused by bad configuration into lines an operator can act on.</summary>
internal static class StartupError
{
    public static string? Describe(Exception exception) => exception switch
    {
        Microsoft.Extensions.Options.OptionsValidationException validation => string.Join(Environment.NewLine, validation.Failures.Select(f => "  " + f)),
        WebhookConfigurationException configuration => "  " + configuration.Message,
        FileNotFoundException missing => "  " + missing.Message,
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        _ when exception.InnerException is { } inner => Describe(inner),
        _ => null,
    };
}
