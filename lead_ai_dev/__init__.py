"""Developer tools, not deployed: the `lead-ai` CLI, the local stack, synthetic data, batch forecasts."""
