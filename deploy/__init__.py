"""The production layout (docs/deploy.md) and a loopback copy of it for drills and benchmarks."""
