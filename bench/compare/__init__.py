"""Regression checking (analysis half): `optbench compare`, named baselines, history, and the
pytest-benchmark step benchmarks' JSON."""
