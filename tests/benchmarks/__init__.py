"""Step benchmarks: one training step per (problem, optimizer), timed by pytest-benchmark."""
