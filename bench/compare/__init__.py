"""Comparing runs against baselines and reading other tools' benchmark results (analysis half)."""
