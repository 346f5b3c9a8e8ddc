"""The trainer on real problems: lessons reproduced, statuses detected, curves recorded."""

import dataclasses

import pytest
import torch

from bench.plan import TrialSpec
from bench.problems import PROBLEMS
from bench.record import Status
from bench.trainer import run_trial

BASE = TrialSpec(
    problem="linear", optimizer="sgd", lr=0.5, hyper=(), activation="none", device="cpu",
    batch="full", dropout=0.0, batch_norm=False, implementation="torch", seed_index=0,
    steps=300, epochs=None, time_limit_s=60.0, eval_every=10, log_every=1, options=(),
)  # fmt: skip


def spec(**changes):
    if "problem" in changes and "options" not in changes:
        problem = PROBLEMS[changes["problem"]]
        changes["options"] = tuple(sorted((k, o.default) for k, o in problem.options.items()))
    return dataclasses.replace(BASE, **changes)


def train(trial):
    problem = PROBLEMS[trial.problem]
    return run_trial(trial, problem, problem.make_data(trial.seed, dict(trial.options)))


def test_sgd_recovers_the_line_and_reports_the_learned_parameters():
    result = train(spec())
    assert result.status == Status.OK
    assert result.learned["weight"][0][0] == pytest.approx(3.0, abs=1e-3)
    assert result.learned["bias"][0] == pytest.approx(0.8, abs=1e-3)
    assert result.learned["truth"] == {"weight": [[3.0]], "bias": [0.8]}
    assert result.steps_to_target is not None and result.steps_to_target <= 300
    assert 0 < result.time_to_target_s <= result.train_time_s


def test_noisy_line_records_the_gap_to_the_closed_form_optimum():
    trial = spec(problem="linear-noisy", optimizer="adam", lr=0.1, steps=500)
    result = train(trial)
    data = PROBLEMS["linear-noisy"].make_data(trial.seed, {})
    assert result.optimum_loss == pytest.approx(data.optimum_loss)
    assert result.suboptimality == pytest.approx(result.final_loss - data.optimum_loss, abs=1e-9)
    # The optimum is a minimum: nothing trained can be below it (within float32 rounding).
    assert result.final_loss >= data.optimum_loss * (1 - 1e-5)


def test_curve_cannot_be_fitted_without_an_activation_but_tanh_fits_it():
    linear = train(
        spec(problem="curve", optimizer="adam", lr=0.01, activation="none", steps=800, eval_every=50)
    )
    tanh = train(
        spec(problem="curve", optimizer="adam", lr=0.01, activation="tanh", steps=800, eval_every=50)
    )
    target = PROBLEMS["curve"].target.value
    assert linear.status == tanh.status == Status.OK
    assert linear.final_metric > 10 * target and linear.steps_to_target is None
    assert tanh.final_metric < target and tanh.steps_to_target is not None


def test_divergence_is_detected_promptly_not_after_the_budget():
    # Plain SGD on unscaled x in [0, 50] is unstable above lr ~ 1.2e-3.
    result = train(spec(problem="linear-noisy", lr=0.01, steps=5000))
    assert result.status == Status.DIVERGED
    assert result.steps <= 50
    assert "exceeded" in result.reason or "became" in result.reason
    assert result.final_loss is None or result.final_loss > 1e6


def test_time_limit_stops_a_trial_with_status_timeout():
    result = train(
        spec(problem="curve", activation="tanh", optimizer="adam", lr=0.001, steps=10**6, time_limit_s=0.5)
    )
    assert result.status == Status.TIMEOUT
    assert 0 < result.steps < 10**6
    assert result.final_metric is not None  # the figures describe where it stopped


def test_an_exception_becomes_status_error_with_its_message():
    problem = dataclasses.replace(PROBLEMS["linear"], make_model=lambda s: torch.nn.Linear(2, 1))
    data = problem.make_data(0, {})
    result = run_trial(spec(), problem, data)
    assert result.status == Status.ERROR
    assert "RuntimeError" in result.reason and "shape" in result.reason


def test_curve_has_a_loss_per_step_and_evaluations_at_the_declared_interval():
    result = train(spec(steps=60, eval_every=20, log_every=1))
    losses = [p.step for p in result.curve if p.loss is not None]
    evaluations = [p.step for p in result.curve if p.metric is not None]
    assert losses == list(range(1, 61))
    assert evaluations == [0, 20, 40, 60]
    times = [p.time_s for p in result.curve]
    assert times == sorted(times) and times[-1] == pytest.approx(sum_of_steps(result), rel=1e-9)
    assert result.step_time_samples == 60 and result.step_time_median_s > 0
    # Evaluation is excluded from training time, and both fit inside the wall clock.
    assert result.eval_time_s > 0 and result.train_time_s > 0


def sum_of_steps(result):
    return result.curve[-1].time_s


@pytest.mark.parametrize("batch, steps_per_epoch", [("full", 1), (8, 5), (1, 40)])
def test_batch_modes_and_epoch_budgets(batch, steps_per_epoch):
    # linear has 50 points, 40 of them for training.
    result = train(spec(batch=batch, steps=None, epochs=2))
    assert result.status == Status.OK
    assert result.steps == 2 * steps_per_epoch
    assert result.epochs == pytest.approx(2.0)


def test_same_seed_same_trajectory_different_seed_different_data():
    first, again = train(spec(steps=30)), train(spec(steps=30))
    assert [p.loss for p in first.curve] == [p.loss for p in again.curve]
    other = train(spec(steps=30, seed_index=1))
    assert [p.loss for p in other.curve] != [p.loss for p in first.curve]


def test_lenet_with_dropout_and_batch_norm_trains_and_evaluates_in_eval_mode():
    trial = spec(problem="lenet", optimizer="adam", lr=0.002, activation="relu", batch=32, dropout=0.25,
                 batch_norm=True, steps=30, eval_every=15)  # fmt: skip
    trial = dataclasses.replace(
        trial, options=tuple(sorted(dict(trial.options, train_size=256, test_size=64).items()))
    )
    result = train(trial)
    assert result.status == Status.OK, result.reason
    assert 0.0 <= result.final_metric <= 1.0
    assert result.memory["rss_peak_bytes"] >= result.memory["rss_start_bytes"] > 0
    assert result.status == Status.OK and result.steps == 30
    # Learned parameters are recorded for the linear problems only.
    assert result.learned is None


@pytest.mark.cuda
@pytest.mark.parametrize("problem", ["linear", "curve", "lenet", "classifier"])
def test_no_host_synchronisation_inside_the_timed_loop_on_cuda(problem):
    """The timed region runs under set_sync_debug_mode('error'): any sync raises."""
    import contextlib

    @contextlib.contextmanager
    def strict():
        torch.cuda.set_sync_debug_mode("error")
        try:
            yield
        finally:
            torch.cuda.set_sync_debug_mode("default")

    trial = spec(
        problem=problem, device="cuda", optimizer="adam", lr=0.001, steps=60, eval_every=20, batch=16
    )
    if problem in ("curve", "lenet", "classifier"):
        trial = dataclasses.replace(trial, activation="tanh" if problem == "curve" else "relu")
    data = PROBLEMS[problem].make_data(trial.seed, dict(trial.options))
    result = run_trial(trial, PROBLEMS[problem], data, timed_region=strict)
    assert result.status == Status.OK, result.reason
    assert result.step_time_samples == 60 and result.step_time_median_s > 0
    assert result.memory["cuda_max_allocated_bytes"] > 0


@pytest.mark.cuda
def test_cuda_and_cpu_follow_the_same_trajectory():
    cpu = train(spec(steps=50, batch=8))
    gpu = train(spec(steps=50, batch=8, device="cuda"))
    assert [p.loss for p in gpu.curve][:10] == pytest.approx([p.loss for p in cpu.curve][:10], rel=1e-4)


def test_running_out_of_memory_is_its_own_status():
    def too_big(model_spec):
        raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    problem = dataclasses.replace(PROBLEMS["linear"], make_model=too_big)
    result = run_trial(spec(), problem, problem.make_data(0, {}))
    assert result.status == Status.OUT_OF_MEMORY
    assert "out of memory" in result.reason
