"""Benchmarks: each module measures one thing and writes its section of docs/BENCHMARKS.md."""
