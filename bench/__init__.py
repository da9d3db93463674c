"""Throughput benchmarks (run ``python -m bench.run_all``); see docs/performance.md."""
