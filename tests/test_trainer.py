"""The trainer on real problems: lessons reproduced, statuses detected, curves recorded."""

import dataclasses
import gc

import pytest
import torch

from bench.executors import in_process
from bench.plan import TrialSpec
from bench.problems import PROBLEMS
from bench.record import Status
from bench.trainer import CHECK_EVERY, run_trial

BASE = TrialSpec(
    problem="linear", optimizer="sgd", lr=0.5, hyper=(), activation="none", device="cpu",
    batch="full", dropout=0.0, batch_norm=False, implementation="torch", threads=1, seed_index=0,
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
    assert result.outcome.status == Status.OK
    assert result.outcome.learned["weight"][0][0] == pytest.approx(3.0, abs=1e-3)
    assert result.outcome.learned["bias"][0] == pytest.approx(0.8, abs=1e-3)
    assert result.outcome.learned["truth"] == {"weight": [[3.0]], "bias": [0.8]}
    assert result.outcome.steps_to_target is not None and result.outcome.steps_to_target <= 300
    assert 0 < result.outcome.time_to_target_s <= result.outcome.train_time_s


def test_noisy_line_records_the_gap_to_the_closed_form_optimum():
    trial = spec(problem="linear-noisy", optimizer="adam", lr=0.1, steps=500)
    result = train(trial)
    data = PROBLEMS["linear-noisy"].make_data(trial.seed, {})
    assert result.outcome.optimum_loss == pytest.approx(data.optimum_loss)
    assert result.outcome.suboptimality == pytest.approx(
        result.outcome.final_loss - data.optimum_loss, abs=1e-9
    )
    # The optimum is a minimum: nothing trained can be below it (within float32 rounding).
    assert result.outcome.final_loss >= data.optimum_loss * (1 - 1e-5)


def test_curve_cannot_be_fitted_without_an_activation_but_tanh_fits_it():
    linear = train(
        spec(problem="curve", optimizer="adam", lr=0.01, activation="none", steps=800, eval_every=50)
    )
    tanh = train(
        spec(problem="curve", optimizer="adam", lr=0.01, activation="tanh", steps=800, eval_every=50)
    )
    target = PROBLEMS["curve"].target.value
    assert linear.outcome.status == tanh.outcome.status == Status.OK
    assert linear.outcome.final_metric > 10 * target and linear.outcome.steps_to_target is None
    assert tanh.outcome.final_metric < target and tanh.outcome.steps_to_target is not None


def test_divergence_is_detected_promptly_not_after_the_budget():
    # Plain SGD on unscaled x in [0, 50] is unstable above lr ~ 1.2e-3.
    result = train(spec(problem="linear-noisy", lr=0.01, steps=5000))
    assert result.outcome.status == Status.DIVERGED
    assert result.outcome.steps <= 50
    assert "exceeded" in result.outcome.reason or "became" in result.outcome.reason
    assert result.outcome.final_loss is None or result.outcome.final_loss > 1e6


def test_time_limit_stops_a_trial_with_status_timeout():
    result = train(
        spec(problem="curve", activation="tanh", optimizer="adam", lr=0.001, steps=10**6, time_limit_s=0.5)
    )
    assert result.outcome.status == Status.TIMEOUT
    assert 0 < result.outcome.steps < 10**6
    assert result.outcome.final_metric is not None  # the figures describe where it stopped


def test_an_exception_becomes_status_error_with_its_message():
    problem = dataclasses.replace(PROBLEMS["linear"], make_model=lambda s: torch.nn.Linear(2, 1))
    data = problem.make_data(0, {})
    result = run_trial(spec(), problem, data)
    assert result.outcome.status == Status.ERROR
    assert "RuntimeError" in result.outcome.reason and "shape" in result.outcome.reason


def test_curve_has_a_loss_per_step_and_evaluations_at_the_declared_interval():
    result = train(spec(steps=60, eval_every=20, log_every=1))
    losses = [p.step for p in result.curve if p.loss is not None]
    evaluations = [p.step for p in result.curve if p.metric is not None]
    assert losses == list(range(1, 61))
    assert evaluations == [0, 20, 40, 60]
    assert result.outcome.step_time_samples == 60 and result.outcome.step_time_median_s > 0
    assert result.outcome.eval_time_s > 0


def test_training_time_has_one_definition_the_timed_segments_wall_time():
    # Segments of at most CHECK_EVERY (100) steps, cut at every evaluation (every 130).
    assert CHECK_EVERY == 100
    result = train(spec(steps=300, eval_every=130, log_every=1))
    outcome = result.outcome
    segments = sum(end - start for start, end in result.segments)
    ends = [100, 130, 230, 260, 300]
    assert len(result.segments) == len(ends)
    assert outcome.train_time_s == pytest.approx(segments, rel=1e-12)
    times = {p.step: p.time_s for p in result.curve}
    assert times[300] == outcome.train_time_s  # the curve ends where train_time_s says, exactly
    # Each segment's end on the curve is the segment durations summed so far.
    running = 0.0
    for (start, end), step in zip(result.segments, ends):
        running += end - start
        assert times[step] == pytest.approx(running, rel=1e-9)
    steps = sorted(times)
    assert all(times[a] < times[b] for a, b in zip(steps, steps[1:]))  # every step took time
    # The target is seen at an evaluation; its time is the curve's time at that step.
    assert outcome.steps_to_target is not None
    assert outcome.time_to_target_s == pytest.approx(times[outcome.steps_to_target], rel=1e-9)
    # Training time is the timed region alone: the untimed evaluations are not in it.
    wall = result.train_end - result.train_start
    assert outcome.train_time_s < wall and outcome.eval_time_s > 0


@pytest.mark.parametrize("batch, steps_per_epoch", [("full", 1), (8, 5), (1, 40)])
def test_batch_modes_and_epoch_budgets(batch, steps_per_epoch):
    # linear has 50 points, 40 of them for training.
    result = train(spec(batch=batch, steps=None, epochs=2))
    assert result.outcome.status == Status.OK
    assert result.outcome.steps == 2 * steps_per_epoch
    assert result.outcome.epochs == pytest.approx(2.0)


def test_same_seed_same_trajectory_different_seed_different_data():
    first, again = train(spec(steps=30)), train(spec(steps=30))
    assert [p.loss for p in first.curve] == [p.loss for p in again.curve]
    other = train(spec(steps=30, seed_index=1))
    assert [p.loss for p in other.curve] != [p.loss for p in first.curve]


class ModeSpy(torch.nn.Module):
    """Wraps a model and notes, for every forward pass, (gradients on?, training mode?)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.seen = []

    def forward(self, x):
        self.seen.append((torch.is_grad_enabled(), self.training))
        return self.inner(x)


def test_lenet_with_dropout_and_batch_norm_trains_in_train_mode_and_evaluates_in_eval_mode():
    trial = spec(problem="lenet", optimizer="adam", lr=0.002, activation="relu", batch=32, dropout=0.25,
                 batch_norm=True, steps=30, eval_every=15)  # fmt: skip
    trial = dataclasses.replace(
        trial, options=tuple(sorted(dict(trial.options, train_size=256, test_size=64).items()))
    )
    spies = []

    def spied(model_spec):
        spies.append(ModeSpy(PROBLEMS["lenet"].make_model(model_spec)))
        return spies[-1]

    problem = dataclasses.replace(PROBLEMS["lenet"], make_model=spied)
    result = run_trial(trial, problem, problem.make_data(trial.seed, dict(trial.options)))
    assert result.outcome.status == Status.OK, result.outcome.reason
    assert 0.0 <= result.outcome.final_metric <= 1.0
    assert result.outcome.memory["rss_peak_bytes"] >= result.outcome.memory["rss_start_bytes"] > 0
    assert result.outcome.steps == 30
    # 30 training steps with gradients, in train mode (dropout and batch statistics on);
    # evaluations at steps 0, 15, 30 (training set, then test split) without, in eval mode.
    seen = spies[0].seen
    assert [mode for grad, mode in seen if grad] == [True] * 30
    assert [mode for grad, mode in seen if not grad] == [False] * 6
    # Learned parameters are recorded for the linear problems only.
    assert result.outcome.learned is None


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
    assert result.outcome.status == Status.OK, result.outcome.reason
    assert result.outcome.step_time_samples == 60 and result.outcome.step_time_median_s > 0
    assert result.outcome.memory["cuda_max_allocated_bytes"] > 0


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
    assert result.outcome.status == Status.OUT_OF_MEMORY
    assert "out of memory" in result.outcome.reason


@pytest.mark.skipif(
    not hasattr(gc, "freeze"), reason="gc.freeze is Python 3.7+ (the Nano's 3.6 keeps its collector)"
)
def test_the_burn_in_takes_what_a_kind_of_trial_loaded_out_of_the_collectors_sight():
    gc.unfreeze()
    warmed = set()
    in_process.burn_in(BASE, in_process.DataCache(), warmed)
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # torch and everything the burn-in loaded, at least
    assert len(gc.get_objects()) < frozen  # what the collector still walks: only what came since
    in_process.burn_in(BASE, in_process.DataCache(), warmed)  # the same kind: no second burn-in
    assert gc.get_freeze_count() == frozen
