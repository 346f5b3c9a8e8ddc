"""optbench: a benchmark and comparison harness for PyTorch training on the tutorial problems.

The device half (suite, plan, problems, learners, trainer, telemetry, store, runner, cli)
runs on the Jetson Nano's Python 3.6 / torch 1.10 stack; the analysis half
(bench.analysis) needs pandas and a current Python.
"""

__version__ = "0.1.0"
