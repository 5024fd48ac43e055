using Webhooks.Silo.Hosting;

// Webhooks.Orleans silo: parses the command line, loads silo.yaml and tenants.yaml, then runs the silo with its HTTP API.
return await SiloCommand.Create().Parse(args).InvokeAsync();
