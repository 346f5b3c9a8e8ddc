"""One training step per (problem, optimizer), timed by pytest-benchmark on the CPU.

    make bench-steps                       # all 28, JSON with raw rounds in .benchmarks/
    pytest --benchmark-only tests/benchmarks -k lenet

What a round times is the body of the trainer's timed loop (see step_cases.Case.step): draw a
batch, zero_grad, forward, loss, backward, optimizer update, the loss stored in a tensor.
Data, model and batch order are built before timing, from the trial's own seed. A plain
`pytest` deselects the timed tests (see conftest.py) and runs the untimed checks below, which
assert behaviour only: nothing here asserts a time.
"""

import math

import pytest
import torch

from bench.problems import PROBLEMS
from bench.trainer import run_trial

from .step_cases import Case, loss_values, trials

CASES = [(t.problem, t.optimizer) for t in trials()]
TRIALS = {(t.problem, t.optimizer): t for t in trials()}


@pytest.mark.parametrize("problem, optimizer", CASES)
def test_step(benchmark, pinned_threads, problem, optimizer):
    trial = TRIALS[problem, optimizer]
    pinned_threads(trial.threads)  # before building, as the trainer sets it before its trial
    case = Case(trial)
    benchmark.group = problem
    benchmark.extra_info.update(case.info())
    benchmark(case.step)


def test_cases_cover_every_optimizer_on_four_problems():
    problems = sorted({p for p, _ in CASES})
    assert problems == ["classifier", "curve", "lenet", "linear"]
    assert len(CASES) == len(set(CASES)) == 4 * 7
    assert all(t.threads == 1 and t.device == "cpu" for t in trials())


@pytest.mark.parametrize("problem, optimizer", CASES)
def test_step_updates_the_model(pinned_threads, problem, optimizer):
    pinned_threads(1)
    case = Case(TRIALS[problem, optimizer])
    weights = [p.detach().clone() for p in case.learner.module().parameters()]
    losses = loss_values(case, 3)
    assert all(math.isfinite(loss) for loss in losses)
    after = list(case.learner.module().parameters())
    assert any(not torch.equal(w, p) for w, p in zip(weights, after))
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("problem", ["linear", "curve", "lenet", "classifier"])
def test_first_step_is_the_trainers_first_step(problem):
    """Same seed, same initial weights, same first batch: the trainer's step-1 loss."""
    trial = TRIALS[problem, "adam"]
    expected = run_trial(
        trial, PROBLEMS[problem], PROBLEMS[problem].make_data(trial.seed, dict(trial.options))
    )
    assert expected.outcome.status.value == "ok"
    step_one = [point.loss for point in expected.curve if point.step == 1][0]
    assert loss_values(Case(trial), 1)[0] == pytest.approx(step_one, rel=1e-6)


def test_a_long_benchmark_reuses_the_prepared_batches():
    case = Case(TRIALS["lenet", "sgd"])
    batches = case.batches
    batches.position = len(batches.order) - batches.size + 1  # fewer than a batch left
    case.step()
    assert batches.position == batches.size
