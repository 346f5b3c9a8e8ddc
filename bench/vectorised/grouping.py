"""Which trials a vectorised run trains together, and what a vectorised suite may hold.

Trials share a batch when everything but their learning rate and seed is the same: the
problem and its options, the optimizer and its other hyper-parameters, activation, batch
mode, budget, device and threads. (The update rules branch on the other hyper-parameters;
the learning rate only multiplies. Seeds change data, initial weights and batch order,
which are per-trial tensors in the batch.)
"""

import dataclasses
from typing import Any, Iterable, List, Tuple

from bench.plan import TrialSpec

PROBLEMS = ("linear", "linear-noisy", "linear-multi", "curve", "rosenbrock", "beale", "saddle", "quadratic")
# The activations written out by hand (bench.learners.autograd), as the suite names them.
ACTIVATIONS = ("none", "identity", "relu", "tanh", "sigmoid", "leaky_relu", "elu")
# Trials of one batch at most: memory grows with it (curve's activations are K x 160 x 32
# floats per layer), and past a few hundred the step is arithmetic, not overhead, already.
MAX_BATCH = 512


def batch_key(trial: TrialSpec) -> TrialSpec:
    """The configuration a batch shares: the trial without its learning rate and seed."""
    return dataclasses.replace(trial, lr=0.0, seed_index=0)


def batches(trials: Iterable[TrialSpec], max_batch: int = MAX_BATCH) -> List[List[TrialSpec]]:
    """The trials in batches of one configuration each, at most ``max_batch`` long; batches
    in the order their first trial comes, trials in their own order within a batch."""
    groups = {}  # type: Dict[TrialSpec, List[TrialSpec]]
    for trial in trials:
        groups.setdefault(batch_key(trial), []).append(trial)
    out = []  # type: List[List[TrialSpec]]
    for group in groups.values():
        out.extend(group[start : start + max_batch] for start in range(0, len(group), max_batch))
    return out


def suite_mistakes(problems: Iterable[Any]) -> List[Tuple[str, str]]:
    """(key, message) for each part of a suite's problems (bench.suite.ProblemChoice) that a
    vectorised run cannot train; empty when it can train them all."""
    mistakes = []
    for choice in problems:
        key = f"problems.{choice.name}"
        if choice.name not in PROBLEMS:
            mistakes.append((key, f"problem {choice.name!r} cannot be vectorised; vectorise: true trains only "
                                  f"{', '.join(PROBLEMS)} (run {choice.name} in a suite without vectorise)"))  # fmt: skip
            continue
        axes = dict(choice.axes)
        bad = {
            "dropout": ([v for v in axes["dropout"] if v], "no dropout: allowed 0"),
            "batch_norm": ([v for v in axes["batch_norm"] if v], "no batch norm: allowed false"),
            "implementation": ([v for v in axes["implementation"] if v != "torch"],
                               "the torch implementation's arithmetic only: allowed torch"),
            "activation": ([v for v in axes["activation"] if v not in ACTIVATIONS],
                           "the activations written out by hand: allowed " + ", ".join(ACTIVATIONS)),
        }  # fmt: skip
        for axis, (values, allowed) in bad.items():
            if values:
                shown = ", ".join(str(v) for v in values)
                mistakes.append(
                    (f"{key}.{axis}", f"{shown} cannot be vectorised; a vectorised batch has {allowed}")
                )
    return mistakes
