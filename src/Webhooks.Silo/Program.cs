using Webhooks.Silo.Hosting;

// Webhooks.Orleans silo: parses the command line, loads silo.yaml and tenants.yaml, then runs the silo with its HTTP API.
// The host handles SIGTERM itself, giving grains time to finish deliveries and store the rest.
return await SiloCommand.Create().Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { ProcessTerminationTimeout = null });
