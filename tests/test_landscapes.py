"""The landscape problems: their closed forms, what the mathematics says SGD must do on the
quadratic, divergence and escape, trajectories in the results directory, and the suite
grammar that sweeps their options. Only what follows from the mathematics is asserted; who
wins on Rosenbrock is measured in the README, not here."""

import csv
import dataclasses
import io
import json
import math
import os

import numpy as np
import pytest
import torch
from conftest import run_cli

from bench import store, surfaces
from bench.plan import TrialSpec, make_plan
from bench.problems import PROBLEMS
from bench.problems.landscapes import COMMON_LR, LANDSCAPE_NAMES
from bench.record import SCHEMA_VERSION, Status
from bench.suite import load_suite
from bench.trainer import CHECK_EVERY, DIVERGENCE_FACTOR, TRAJECTORY_POINTS, run_trial, thin_path
from bench.validation import SuiteError

FUNCTIONS = [
    ("rosenbrock", {}),
    ("beale", {}),
    ("saddle", {}),
    ("quadratic", {"condition": 100.0, "angle": 30.0}),
]


@pytest.mark.parametrize("name,options", FUNCTIONS)
def test_the_closed_form_gradient_is_the_functions_gradient(name, options):
    surface = surfaces.surface(name, options)
    rng = np.random.RandomState(0)
    for x, y in rng.uniform(-2.0, 2.0, size=(20, 2)):
        theta = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
        surface.value(theta[0], theta[1]).backward()
        assert np.allclose(surface.gradient(x, y), theta.grad.numpy(), rtol=1e-12, atol=1e-12)
    gx, gy = surface.gradient(*surface.minimiser)
    assert (gx, gy) == (0.0, 0.0) and surface.at(surface.minimiser) == surface.minimum


def test_the_quadratics_curvatures_are_one_and_one_over_the_condition_number():
    for condition in (1.0, 10.0, 1000.0):
        surface = surfaces.quadratic(condition, angle_degrees=30.0)
        hessian = np.array([surface.gradient(1.0, 0.0), surface.gradient(0.0, 1.0)])  # linear gradient
        assert np.allclose(sorted(np.linalg.eigvalsh(hessian)), [1.0 / condition, 1.0], rtol=1e-12)
    assert surfaces.largest_curvature("quadratic") == 1.0


def trial(problem="quadratic", optimizer="sgd", lr=0.5, steps=300, implementation="torch", **options):
    defaults = {name: option.default for name, option in PROBLEMS[problem].options.items()}
    defaults.update(options)
    return TrialSpec(problem=problem, optimizer=optimizer, lr=lr, hyper=(), activation="none", device="cpu",
                     batch="full", dropout=0.0, batch_norm=False, implementation=implementation, threads=1,
                     seed_index=0, steps=steps, epochs=None, time_limit_s=60.0, eval_every=10, log_every=1,
                     options=tuple(sorted(defaults.items())))  # fmt: skip


def run(spec):
    problem = PROBLEMS[spec.problem]
    return run_trial(spec, problem, problem.make_data(spec.seed, dict(spec.options)))


@pytest.mark.parametrize("lr", [0.3, 1.0, 1.9])
def test_sgd_below_two_over_l_converges_on_the_quadratic_in_the_steps_its_rate_predicts(lr):
    # theta_i <- (1 - lr lambda_i) theta_i: each coordinate shrinks by |1 - lr lambda_i| per step,
    # so from f0 = (0.8^2 + 1.2^2 / 10) / 2 the suboptimality is below 1e-6 once rate^(2n) f0 < 1e-6.
    condition = 10.0
    rate = max(abs(1 - lr * 1.0), abs(1 - lr / condition))
    needed = math.ceil(math.log(1e-6 / 0.392) / (2 * math.log(rate)))
    result = run(trial(lr=lr, steps=needed + 20, condition=condition))
    assert result.outcome.status is Status.OK
    assert result.outcome.steps_to_target is not None and result.outcome.steps_to_target <= needed + 10


@pytest.mark.parametrize("lr", [2.1, 2.5, 4.0])
@pytest.mark.parametrize("implementation", ["torch", "numpy"])
def test_sgd_above_two_over_l_is_recorded_as_diverged_within_a_bounded_number_of_steps(lr, implementation):
    # The stiff coordinate grows by |1 - lr| per step, f by its square: f passes the trainer's
    # DIVERGENCE_FACTOR x f0 within n steps, and the check comes at most CHECK_EVERY steps later.
    f0, stiff = 0.5 * (0.64 + 1.44 / 10.0), 0.5 * 0.64
    n = math.ceil(math.log(DIVERGENCE_FACTOR * f0 / stiff) / (2 * math.log(abs(1 - lr))))
    result = run(trial(lr=lr, steps=1000, implementation=implementation, condition=10.0))
    assert result.outcome.status is Status.DIVERGED, result.outcome.reason
    assert result.outcome.steps <= n + CHECK_EVERY
    # The path is kept up to the divergence, and it is the path that blew up.
    assert result.trajectory[-1][0] == result.outcome.steps
    xs = [x for _, x, _ in result.trajectory if x is not None]
    assert abs(xs[-1]) > 10 * abs(xs[0])


def test_a_point_that_leaves_the_escape_radius_has_diverged_even_while_f_is_small():
    surface = surfaces.surface("quadratic", {"condition": 1e6, "start": (0.0, 900.0)})
    assert surface.at(surface.start) < 1  # f = 0.5 * 900^2 / 1e6 = 0.405
    # Along the flat direction (curvature 1e-6) a rate of 2.5e6 multiplies y by -1.5 per step:
    # by the first check (step 10) |y| = 900 * 1.5^10 = 5e4, while f = 1350 is under 1e4 x f0.
    result = run(trial(lr=2.5e6, steps=200, condition=1e6, start=(0.0, 900.0)))
    assert result.outcome.status is Status.DIVERGED
    assert "from the minimiser, beyond 1000" in result.outcome.reason


def test_escaping_the_saddle_is_the_target_not_a_divergence():
    result = run(trial(problem="saddle", lr=0.1, steps=300))
    assert result.outcome.status is Status.OK
    # y grows by 1 + 2 lr = 1.2 per step from 1e-3: f = x^2 - y^2 < -1 once y > 1, by step 38.
    assert result.outcome.steps_to_target == 40  # the first evaluation after step 38
    assert result.outcome.final_metric < -1.0


def test_every_optimizer_reaches_the_target_on_the_well_conditioned_bowl_at_its_best_rate(
    write_suite, tmp_path
):
    suite = write_suite(
        "problems: {quadratic: {options: {condition: 1}}}\n"
        "optimizers: [sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw]\n"
        "telemetry: {sources: [none]}\n"
    )
    from bench import ranking
    from bench.runner import run_plan

    _, records = run_plan(make_plan(load_suite(suite)), str(tmp_path), out=io.StringIO())
    best = {}  # the ranking's order: each optimizer's first standing is its best rate
    for standing in ranking.rank([ranking.trial_row(r) for r in records])["quadratic"]:
        best.setdefault(json.loads(standing.configuration)["optimizer"], standing)
    assert sorted(best) == sorted(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"])
    for optimizer, standing in best.items():
        assert standing.time_to_target_s < math.inf, f"{optimizer} never reached the target at its best rate"


def test_gradient_noise_is_gaussian_of_the_options_deviation_and_seeded_by_the_trial_seed():
    """The noise read back from recorded paths: plain SGD on the bowl (H = diag(1, 1/10) at angle 0)
    steps theta <- theta - lr (H theta + n), so the noisy path's departure d from the exact one
    obeys d' = (I - lr H) d - lr n, and each step's noise is n = ((I - lr H) d - d') / lr."""
    lr, sd, steps = 0.1, 0.1, 1000  # every step recorded: 1000 steps are within the trajectory's bound

    def path(seed_index, noise):
        spec = dataclasses.replace(
            trial(lr=lr, steps=steps, noise=noise, condition=10.0), seed_index=seed_index
        )
        result = run(spec)
        assert result.outcome.status is Status.OK, result.outcome.reason
        return np.array([(x, y) for _, x, y in result.trajectory])

    exact, noisy = path(0, 0.0), path(0, sd)
    assert np.array_equal(noisy, path(0, sd))  # seeded: the same trial seed, the same noise
    assert np.abs(path(1, sd) - noisy).max() > 0.1 * sd  # another seed, other noise
    d = noisy - exact
    noise = ((1.0 - lr * np.array([1.0, 0.1])) * d[:-1] - d[1:]) / lr
    assert noise.shape == (steps, 2)
    # 2000 draws: the mean's standard error is sd / 45, the deviation's about 1.6%
    assert abs(noise.mean()) < 4 * sd / np.sqrt(noise.size)
    assert abs(noise.std() / sd - 1.0) < 0.05
    # Gaussian: 68.3% within one deviation, 95.4% within two (standard errors 1.0% and 0.5%)
    assert abs(np.mean(np.abs(noise) < sd) - 0.683) < 0.04
    assert abs(np.mean(np.abs(noise) < 2 * sd) - 0.954) < 0.02


def test_the_trajectory_keeps_every_step_up_to_its_bound_then_thins_evenly():
    short = thin_path(np.arange(2 * 11, dtype=float).reshape(11, 2))
    assert [step for step, _, _ in short] == list(range(11))
    long = thin_path(np.zeros((5001, 2)))
    steps = [step for step, _, _ in long]
    assert len(steps) == TRAJECTORY_POINTS and steps[0] == 0 and steps[-1] == 5000
    assert set(np.diff(steps)) <= {4, 5, 6}  # 5000 / 1000 = 5 steps apart, rounded
    assert thin_path(np.array([[1.0, float("inf")]])) == [(0, 1.0, None)]


def test_every_landscape_grid_holds_its_common_learning_rate():
    for name in LANDSCAPE_NAMES:
        for optimizer, grid in PROBLEMS[name].default_lr.items():
            assert COMMON_LR[name] in grid, (name, optimizer)


def test_option_lists_sweep_and_bad_options_are_named(write_suite):
    suite = load_suite(
        write_suite(
            "problems: {quadratic: {options: {condition: [1, 10, 100], noise: [0, 0.1]}},"
            " saddle: {options: {start: [[1, 0.001], [1, -0.001]]}}}\noptimizers: [sgd]\n"
        )
    )
    options = [dict(choice.options) for choice in suite.problems]
    assert sorted((o["condition"], o["noise"]) for o in options if "condition" in o) == [
        (c, n) for c in (1.0, 10.0, 100.0) for n in (0.0, 0.1)
    ]
    assert [o["start"] for o in options if "condition" not in o] == [(1.0, 0.001), (1.0, -0.001)]
    with pytest.raises(SuiteError) as error:
        load_suite(
            write_suite(
                "problems: {quadratic: {options: {condition: 0.5, start: [1]}, batch: 1}}\noptimizers: [sgd]\n",
                name="bad.yaml",
            )
        )
    text = str(error.value)
    assert "problems.quadratic.options.condition: must be at least 1.0, got 0.5" in text
    assert "problems.quadratic.options.start: expected a point [x, y] of two numbers" in text
    assert "problems.quadratic.batch: problem 'quadratic' has no batch to set" in text


def test_a_landscape_run_writes_its_trajectories_and_a_resumed_run_drops_orphans(write_suite, tmp_path):
    suite = write_suite(
        "problems: {saddle: {options: {noise: [0, 0.1]}}}\noptimizers: {sgd: {lr: 0.1}, adam: {lr: 0.1}}\n"
        "budget: {steps: 50}\ntelemetry: {sources: [none]}\n"
    )
    done = run_cli("run", suite, "--results", str(tmp_path), "--run-id", "r")
    assert done.returncode == 0, done.stderr
    run_dir = str(tmp_path / "suite" / "r")
    records = store.read_trials(run_dir)
    rows = store.read_trajectories(run_dir)
    assert len(records) == 4 and len(rows) == 4 * 51
    assert all(r.metric_name == "suboptimality" and r.data["function"] == "saddle" for r in records)
    with open(os.path.join(run_dir, store.TRAJECTORIES), "a") as handle:
        handle.write("saddle-cut-off-mid-trial,0,1.0,0.001\n")  # a trial whose record never came
    writer = store.RunWriter(run_dir, dict(store.read_manifest(run_dir), schema=SCHEMA_VERSION))
    writer.close()
    with open(os.path.join(run_dir, store.TRAJECTORIES)) as handle:
        kept = list(csv.DictReader(handle))
    assert len(kept) == 4 * 51 and "saddle-cut-off-mid-trial" not in {row["trial_id"] for row in kept}


def test_the_shipped_landscapes_suite_sweeps_every_function_optimizer_rate_seed_and_noise():
    """suites/landscapes.yaml as the issue asks for it: all four functions (the bowl at condition
    1, 10, 100 and 1000) x all seven optimizers x a learning-rate grid holding the function's
    common rate x 3 seeds, each function with and without gradient noise."""
    from bench.optimizers import OPTIMIZERS
    from bench.suite import SHIPPED_SUITES

    plan = make_plan(load_suite(os.path.join(SHIPPED_SUITES, "landscapes.yaml")))
    cells = {}  # (function, options but noise) -> noise -> optimizer -> lr -> seeds
    for spec in plan.trials:
        options = dict(spec.options)
        shape = tuple(sorted((k, v) for k, v in options.items() if k not in ("noise", "start")))
        lrs = cells.setdefault((spec.problem, shape), {}).setdefault(options["noise"], {})
        lrs.setdefault(spec.optimizer, {}).setdefault(spec.lr, set()).add(spec.seed_index)
    assert {problem for problem, _ in cells} == set(LANDSCAPE_NAMES)
    conditions = sorted(dict(shape)["condition"] for problem, shape in cells if problem == "quadratic")
    assert conditions == [1.0, 10.0, 100.0, 1000.0]
    for (problem, _), by_noise in cells.items():
        assert sorted(by_noise)[0] == 0.0 and len(by_noise) == 2, (problem, sorted(by_noise))
        for by_optimizer in by_noise.values():
            assert sorted(by_optimizer) == sorted(OPTIMIZERS)
            for optimizer, by_lr in by_optimizer.items():
                assert len(by_lr) >= 3 and COMMON_LR[problem] in by_lr, (problem, optimizer, sorted(by_lr))
                assert all(seeds == {0, 1, 2} for seeds in by_lr.values())


def test_optbench_list_names_the_landscapes():
    listed = run_cli("list")
    assert listed.returncode == 0, listed.stderr
    for name in ("rosenbrock", "beale", "saddle", "quadratic", "landscapes"):
        assert name in listed.stdout
