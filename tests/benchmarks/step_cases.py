"""The cases the step benchmarks time: each a trial of steps.yaml, built as the trainer builds it.

A case is planned by optbench itself (bench.suite + bench.plan), so its seed, option defaults
and model settings are those `optbench run` would use for the same cell, and its trial id
matches that run's configuration id. Building a case does what bench.trainer._train does
before its timed loop: the data from the trial's seed, torch.manual_seed(seed), the model,
the learner, and the seeded batch order. ``Case.step`` is the body of the trainer's timed
loop: draw a batch, one optimizer step (zero_grad, forward, loss, backward, update), and the
step's loss written into a tensor, not fetched (no host synchronisation).
"""

import functools
import os
from typing import List, Tuple

import torch

from bench import learners
from bench.batches import Batches
from bench.plan import TrialSpec, make_plan
from bench.problems import PROBLEMS, ModelSpec, ProblemData
from bench.suite import load_suite

SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "steps.yaml")

# Batches drawn ahead per case: their permutations are drawn before timing, as the trainer
# draws a trial's whole order before its first step. When a long benchmark uses them all,
# the order starts again from its beginning (the same batches again, same sizes).
PREPARED_STEPS = 4096


@functools.lru_cache(maxsize=None)
def trials() -> Tuple[TrialSpec, ...]:
    return make_plan(load_suite(SUITE)).trials


def case_id(trial: TrialSpec) -> str:
    """The pytest id: test_step[lenet-adam]."""
    return f"{trial.problem}-{trial.optimizer}"


@functools.lru_cache(maxsize=None)
def _data(problem: str, seed: int, options: Tuple[Tuple[str, object], ...]) -> ProblemData:
    # Shared by the seven optimizers of a problem, as the runner's data cache shares it.
    return PROBLEMS[problem].make_data(seed, dict(options))


class Case:
    """One trial's model, learner and batches, ready for ``step``."""

    def __init__(self, trial: TrialSpec):
        self.trial = trial
        problem = PROBLEMS[trial.problem]
        data = _data(trial.problem, trial.seed, trial.options)
        device = torch.device(trial.device)
        torch.manual_seed(trial.seed)  # the trial's initial weights, as in the trainer
        model_spec = ModelSpec(trial.activation, trial.dropout, trial.batch_norm, dict(trial.options))
        model = problem.make_model(model_spec).to(device)
        self.learner = learners.build(
            trial.implementation, model, problem.loss_fn(), trial.optimizer, trial.lr, dict(trial.hyper)
        )
        self.learner.train()
        self.batches = Batches(data.x_train.to(device), data.y_train.to(device), trial.batch, trial.seed)
        self.batches.prepare(PREPARED_STEPS)
        self.losses = torch.zeros(1, device=device)
        self.train_samples = len(data.x_train)

    def step(self) -> None:
        batches = self.batches
        if batches.order is not None and batches.position + batches.size > len(batches.order):
            batches.position = 0  # a long benchmark: the prepared order again
        x, y = batches.next()
        self.losses[0] = self.learner.step(x, y)

    def batch_size(self) -> int:
        return self.batches.size

    def info(self) -> dict:
        """What pytest-benchmark stores as the benchmark's extra_info."""
        t = self.trial
        return {
            "problem": t.problem, "optimizer": t.optimizer, "lr": t.lr, "activation": t.activation,
            "batch": str(t.batch), "batch_size": self.batch_size(), "train_samples": self.train_samples,
            "threads": t.threads, "device": t.device, "implementation": t.implementation,
            "seed": t.seed, "trial_id": t.trial_id,
        }  # fmt: skip


def loss_values(case: Case, steps: int) -> List[float]:
    """The losses of ``steps`` steps (a behaviour check, not a timing)."""
    values = []
    for _ in range(steps):
        case.step()
        values.append(float(case.losses[0]))
    return values
