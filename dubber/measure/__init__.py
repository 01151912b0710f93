"""Measurement, apart from the runtime: quality evaluation (eval) and speed benchmarks (bench)."""
