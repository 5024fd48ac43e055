global using System.Diagnostics.Metrics;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Logging;
global using Webhooks.Tests.Infrastructure;
