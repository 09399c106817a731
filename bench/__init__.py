"""Benchmark of the reconciliation chain against peers (see docs/benchmark.md)."""
