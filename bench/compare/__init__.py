"""Regression checking (analysis half): comparing runs, baselines, and the history of nights."""
