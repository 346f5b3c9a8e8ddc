"""Regression checking (analysis half): `optbench compare`, named baselines, history."""
