"""Vectorised trials (bench.vectorised) against the sequential trainer's own output.

Each batch is trained once by bench.vectorised.trainer.run_batch and each of its trials once
by bench.trainer.run_trial, the trainer every sequential run uses; the curves (each step's
loss, each evaluation's training loss and test metric), statuses, step counts, targets and
learned parameters must agree.

float64 (the problems' data and models converted, in both runs): every curve within a
relative 1e-9 of the sequential one, the difference measured against the curve's own scale
(its largest value), as tests/test_landscapes_reference.py measures paths. Measured here:
at most 1.7e-15. The learning rates are ones at which the trials converge: where a trial
runs chaotically (curve at rate 3 with Adagrad, say), any change in the order of rounding
grows to O(1) within a few hundred steps, between two sequential runs written differently
as much as here, and no tolerance would mean anything. A trial that diverges must diverge
at the same step with the same status, and leave the others untouched.

float32 (the problems as they are): within a relative 1e-5. Measured here: at most 5.7e-7,
a few float32 roundings (6e-8 each): the batched kernels (baddbmm, a mean per trial) add
in another order than nn.Linear's addmm and one mean over a whole tensor, so each step
rounds differently, and the trajectories contract, so the differences stay at that size.
"""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from bench import optimizers
from bench.plan import TrialSpec, make_plan
from bench.problems import PROBLEMS
from bench.record import Status
from bench.suite import load_suite
from bench.trainer import run_trial
from bench.validation import SuiteError
from bench.vectorised import mlp_step, stacked
from bench.vectorised.grouping import ACTIVATIONS, batches
from bench.vectorised.trainer import run_batch

OPTIMIZERS = tuple(optimizers.OPTIMIZERS)  # all seven
STEPS = 200
FLOAT64_RTOL = 1e-9
FLOAT32_RTOL = 1e-5
CURVE_OPTIONS = (("hidden", 16), ("layers", 2), ("points", 200))

# Rates at which every trial converges (per problem: plain SGD-like, and adaptive methods),
# and one at which the SGD family diverges within the steps.
STABLE = {
    "linear": ((0.01, 0.1), (0.01, 0.1)),
    "linear-noisy": ((1e-5, 5e-5), (0.01, 0.1)),
    "linear-multi": ((0.01, 0.1), (0.01, 0.1)),
    "curve": ((0.01, 0.03), (0.0003, 0.001)),
}
DIVERGING = {"linear": 5.0, "linear-noisy": 0.01, "linear-multi": 50.0, "curve": 20.0}
SGD_FAMILY = ("sgd", "momentum", "nesterov")


def trial(problem, optimizer, lr, seed, steps=STEPS, batch="full", hyper=()):
    is_curve = problem == "curve"
    return TrialSpec(
        problem=problem, optimizer=optimizer, lr=lr, hyper=hyper, activation="tanh" if is_curve else "none",
        device="cpu", batch=batch, dropout=0.0, batch_norm=False, implementation="torch", threads=1,
        seed_index=seed, steps=steps, epochs=None, time_limit_s=600.0, eval_every=10, log_every=1,
        options=CURVE_OPTIONS if is_curve else (),
    )  # fmt: skip


def in_float64(problem):
    """The problem with float64 data and model: both trainers run it as they run any problem."""

    def make_data(seed, options):
        data = problem.make_data(seed, options)
        wide = {name: getattr(data, name).double() for name in ("x_train", "y_train", "x_test", "y_test")}
        return dataclasses.replace(data, **wide)

    return dataclasses.replace(
        problem, make_data=make_data, make_model=lambda spec: problem.make_model(spec).double()
    )


def both(specs, problem):
    datas = [problem.make_data(spec.seed, dict(spec.options)) for spec in specs]
    sequential = [run_trial(spec, problem, data) for spec, data in zip(specs, datas)]
    return run_batch(specs, problem, datas), sequential


def curve_difference(batched, sequential) -> float:
    """The largest difference between the curves' values, over the sequential curve's
    largest value, for each quantity (step loss, evaluation loss, metric); the worst."""
    assert [p.step for p in batched.curve] == [p.step for p in sequential.curve]
    worst = 0.0
    for name in ("loss", "eval_loss", "metric"):
        ours = [getattr(p, name) for p in batched.curve]
        theirs = [getattr(p, name) for p in sequential.curve]
        assert [v is None for v in ours] == [v is None for v in theirs], name
        pairs = [(a, b) for a, b in zip(ours, theirs) if b is not None]
        assert pairs, name
        scale = max(abs(b) for _, b in pairs)
        worst = max(worst, max(abs(a - b) for a, b in pairs) / scale)
    return worst


def learned_difference(batched, sequential) -> float:
    ours, theirs = batched.outcome.learned, sequential.outcome.learned
    assert ours["truth"] == theirs["truth"] and ours["optimum"] == theirs["optimum"]
    flat = lambda nested: torch.tensor(nested["weight"]).flatten().tolist() + list(nested["bias"])  # noqa: E731
    a, b = flat(ours), flat(theirs)
    return max(abs(x - y) for x, y in zip(a, b)) / max(abs(y) for y in b)


def check_batch(specs, problem, rtol):
    batched, sequential = both(specs, problem)
    worst = 0.0
    for spec, ours, theirs in zip(specs, batched, sequential):
        assert ours.outcome.status is theirs.outcome.status, spec.label()
        assert ours.outcome.steps == theirs.outcome.steps, spec.label()
        if theirs.outcome.status is not Status.OK:
            continue
        worst = max(worst, curve_difference(ours, theirs))
        assert ours.outcome.steps_to_target == theirs.outcome.steps_to_target, spec.label()
        if theirs.outcome.learned is not None:
            worst = max(worst, learned_difference(ours, theirs))
    assert worst <= rtol
    return batched, sequential


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("problem", sorted(STABLE))
def test_float64_curves_are_the_sequential_ones(problem, name):
    sgd_like, adaptive = STABLE[problem]
    rates = list(sgd_like if name in SGD_FAMILY else adaptive)
    if name in SGD_FAMILY:
        rates.append(DIVERGING[problem])
    specs = [trial(problem, name, lr, seed) for lr in rates for seed in (0, 1)]
    batched, sequential = check_batch(specs, in_float64(PROBLEMS[problem]), FLOAT64_RTOL)
    statuses = [r.outcome.status for r in sequential]
    assert statuses.count(Status.OK) >= 4  # the stable rates were compared, every step of them
    if name in SGD_FAMILY:
        # One trial's divergence masks it out: it stopped early, the others went on to the end.
        assert statuses[-1] is Status.DIVERGED and sequential[-1].outcome.steps < STEPS
        assert all(r.outcome.steps == STEPS for r in batched[:4])


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("problem", ["linear", "curve"])
def test_float32_curves_within_the_stated_tolerance(problem, name):
    sgd_like, adaptive = STABLE[problem]
    specs = [
        trial(problem, name, lr, seed)
        for lr in (sgd_like if name in SGD_FAMILY else adaptive)
        for seed in (0, 1)
    ]
    check_batch(specs, PROBLEMS[problem], FLOAT32_RTOL)


@pytest.mark.parametrize("batch", [8, 1])
def test_mini_batches_follow_each_trials_own_order(batch):
    specs = [trial("linear-noisy", "adam", lr, seed, batch=batch) for lr in (0.01, 0.1) for seed in (0, 1, 2)]
    check_batch(specs, in_float64(PROBLEMS["linear-noisy"]), FLOAT64_RTOL)


# Every branch of every rule in bench.vectorised.updates: weight decay folded into the gradient,
# dampening, Nesterov's look-ahead, Adagrad's decaying rate, RMSprop's momentum.
HYPER_BRANCHES = [
    ("momentum", (("momentum", 0.5),), (0.01, 0.1)),
    ("sgd", (("weight_decay", 0.1),), (0.01, 0.03)),
    ("momentum", (("dampening", 0.3), ("weight_decay", 0.05)), (0.01, 0.03)),
    ("nesterov", (("weight_decay", 0.05),), (0.01, 0.03)),
    ("adagrad", (("lr_decay", 0.01), ("weight_decay", 0.05)), (0.01, 0.03)),
    ("rmsprop", (("momentum", 0.5), ("weight_decay", 0.05)), (0.0003, 0.001)),
    ("adam", (("weight_decay", 0.05),), (0.0003, 0.001)),
    ("adamw", (("weight_decay", 0.1),), (0.0003, 0.001)),
]


@pytest.mark.parametrize("name, hyper, lrs", HYPER_BRANCHES)
def test_hyper_parameters_other_than_the_rate_are_the_batchs(name, hyper, lrs):
    specs = [trial("curve", name, lr, seed, hyper=hyper) for lr in lrs for seed in (0, 1)]
    batched, sequential = check_batch(specs, in_float64(PROBLEMS["curve"]), FLOAT64_RTOL)
    assert all(r.outcome.status is Status.OK for r in sequential)  # every step compared


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_chunked_steps_are_the_sequential_ones(monkeypatch, name):
    """On a CPU a large batch goes forward and backward a chunk of trials at a time (for the
    cache); made small here, so that 6 trials take three chunks (two once the diverging
    trials have left), and every trial must still be its sequential self."""
    sizes = []
    chunk = mlp_step.MLPStep._chunk
    monkeypatch.setattr(stacked, "CHUNK_VALUES", 2 * 160 * 16)  # two trials of 160 points x 16
    monkeypatch.setattr(
        mlp_step.MLPStep, "_chunk", lambda self, *a: sizes.append(len(a[1])) or chunk(self, *a)
    )
    sgd_like, adaptive = STABLE["curve"]
    rates = list(sgd_like if name in SGD_FAMILY else adaptive) + (
        [DIVERGING["curve"]] if name in SGD_FAMILY else []
    )
    specs = [trial("curve", name, lr, seed) for lr in rates for seed in (0, 1)]
    check_batch(specs, in_float64(PROBLEMS["curve"]), FLOAT64_RTOL)
    assert set(sizes) == {2} and len(sizes) >= 2 * STEPS


@pytest.mark.parametrize("activation", [a for a in ACTIVATIONS if a != "tanh"])  # tanh: above
def test_every_activations_written_out_derivative_is_torchs(activation):
    """The backward pass is written out (bench.vectorised.mlp_step): for each activation a
    batch allows, the curves are the sequential trainer's, whose gradients are autograd's."""
    specs = [
        dataclasses.replace(trial("curve", "sgd", lr, seed), activation=activation)
        for lr in (0.03, 0.1)
        for seed in (0, 1)
    ]
    batched, sequential = check_batch(specs, in_float64(PROBLEMS["curve"]), FLOAT64_RTOL)
    assert all(r.outcome.status is Status.OK for r in sequential)


@pytest.mark.parametrize("last", [None, nn.Tanh(), nn.LeakyReLU(0.1), nn.ELU(0.5)])
def test_the_stacked_forward_is_each_models_own(monkeypatch, last):
    """The evaluation's forward pass goes a chunk at a time through reused buffers, each
    activation in place where it can be; an activation after the last layer included (one
    not applied in place writes a new tensor, which must still reach the result)."""
    monkeypatch.setattr(stacked, "CHUNK_VALUES", 2 * 20 * 8)  # 2 trials a thread: 7 make a short last chunk
    torch.manual_seed(0)
    tail = [last] if last is not None else []
    models = [nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2), *tail).double() for _ in range(7)]
    x = torch.randn(7, 20, 3, dtype=torch.float64)
    ours = stacked.StackedMLP(models).forward(x)
    with torch.no_grad():
        theirs = torch.stack([model(x[k]) for k, model in enumerate(models)])
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_the_timed_region_is_entered_around_every_segment_and_only_there(monkeypatch):
    """run_batch's timed_region, as run_trial's: the CUDA test below turns on torch's sync
    check inside it. Steps 0-20 and 20-40 are the segments (eval_every 20); the guard sees
    every step taken inside it, and the evaluations outside."""
    inside, entered, steps_inside, evaluations_inside = [False], [], [], []

    class Guard:
        def __enter__(self):
            entered.append(True)
            inside.append(True)

        def __exit__(self, *exc_info):
            inside.append(False)

    def spy(method, seen):
        def spied(self, *args):
            seen.append(inside[-1])
            return method(self, *args)

        return spied

    monkeypatch.setattr(stacked.StackedMLP, "train_step", spy(stacked.StackedMLP.train_step, steps_inside))
    monkeypatch.setattr(stacked.StackedMLP, "evaluate", spy(stacked.StackedMLP.evaluate, evaluations_inside))
    specs = [
        dataclasses.replace(trial("curve", "adam", 0.001, seed, steps=40), eval_every=20) for seed in (0, 1)
    ]
    problem = PROBLEMS["curve"]
    results = run_batch(
        specs, problem, [problem.make_data(s.seed, dict(s.options)) for s in specs], timed_region=Guard
    )
    assert all(r.outcome.status is Status.OK for r in results)
    assert len(entered) == 2 and steps_inside == [True] * 40
    assert evaluations_inside == [False] * 3  # at steps 0, 20 and 40


def on_cuda(spec: TrialSpec) -> TrialSpec:
    return dataclasses.replace(spec, device="cuda")


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("problem", ["linear", "curve"])
def test_float64_curves_on_cuda_are_the_sequential_ones_there(problem, name):
    """On a GPU a batch is one chunk (chunk_rows) through cuBLAS's batched products; its
    curves against the sequential trainer's on the same GPU, at float64."""
    sgd_like, adaptive = STABLE[problem]
    rates = sgd_like if name in SGD_FAMILY else adaptive
    specs = [on_cuda(trial(problem, name, lr, seed)) for lr in rates for seed in (0, 1)]
    batched, sequential = check_batch(specs, in_float64(PROBLEMS[problem]), FLOAT64_RTOL)
    assert all(r.outcome.status is Status.OK for r in sequential)


@pytest.mark.cuda
@pytest.mark.parametrize("problem, batch", [("curve", "full"), ("linear-noisy", 16)])
def test_a_batch_on_cuda_never_waits_for_the_host_inside_its_timed_steps(problem, batch):
    """The timed steps run under torch.cuda.set_sync_debug_mode('error'): any host sync in
    them (a .item(), a tolist, a CPU index) raises, and the batch would end in ERROR."""

    class Strict:
        def __enter__(self):
            torch.cuda.set_sync_debug_mode("error")

        def __exit__(self, *exc_info):
            torch.cuda.set_sync_debug_mode("default")

    specs = [
        on_cuda(trial(problem, "adam", lr, seed, steps=60, batch=batch))
        for lr in (1e-3, 1e-2)
        for seed in (0, 1)
    ]
    problem_ = PROBLEMS[problem]
    datas = [problem_.make_data(s.seed, dict(s.options)) for s in specs]
    results = run_batch(specs, problem_, datas, timed_region=Strict)
    assert [r.outcome.status for r in results] == [Status.OK] * 4, results[0].outcome.reason
    assert all(r.outcome.step_time_samples == 60 for r in results)
    assert results[0].outcome.memory["cuda_max_allocated_bytes"] > 0


def test_the_tolerance_sees_a_small_change():
    """1e-9 is far above the rounding differences and far below a real one: a learning rate
    off by one part in a million is caught."""
    problem = in_float64(PROBLEMS["curve"])
    specs = [trial("curve", "adam", 0.01, 0)]
    nudged = [dataclasses.replace(specs[0], lr=0.01 * (1 + 1e-6))]
    data = [problem.make_data(specs[0].seed, dict(specs[0].options))]
    ours = run_batch(nudged, problem, data)[0]
    assert curve_difference(ours, run_trial(specs[0], problem, data[0])) > FLOAT64_RTOL


def test_batches_group_by_everything_but_rate_and_seed():
    specs = [
        trial("linear", name, lr, seed) for name in ("sgd", "adam") for lr in (0.01, 0.1) for seed in (0, 1)
    ]
    specs.append(trial("linear", "sgd", 0.01, 0, steps=50))
    grouped = batches(specs, max_batch=3)
    assert [len(b) for b in grouped] == [3, 1, 3, 1, 1]
    assert sorted(t.trial_id for b in grouped for t in b) == sorted(t.trial_id for t in specs)
    for group in grouped:
        assert len({(t.optimizer, t.steps) for t in group}) == 1


# ---- the landscapes (float64 already: theta is) ----

# test_landscapes_reference's stable rates on the bowl, and a rate at which SGD leaves it.
LANDSCAPE_RATES = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05,
                   "adamw": 0.05}  # fmt: skip


def landscape_trial(optimizer, lr, seed, noise=0.0):
    options = (("angle", 0.0), ("condition", 10.0), ("noise", noise), ("start", None))
    return dataclasses.replace(trial("linear", optimizer, lr, seed), problem="quadratic", options=options)


def path_difference(batched, sequential) -> float:
    assert [p[0] for p in batched.trajectory] == [p[0] for p in sequential.trajectory]
    scale = max(max(abs(x), abs(y)) for _, x, y in sequential.trajectory)
    pairs = zip(batched.trajectory, sequential.trajectory)
    return max(max(abs(a[1] - b[1]), abs(a[2] - b[2])) for a, b in pairs) / scale


@pytest.mark.parametrize("noise", [0.0, 0.1])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_landscape_paths_and_curves_are_the_sequential_ones(name, noise):
    lr = LANDSCAPE_RATES[name]
    specs = [landscape_trial(name, rate, seed, noise) for rate in (lr, lr / 2) for seed in (0, 1)]
    if name == "sgd":
        specs.append(landscape_trial(name, 2.1, 0, noise))  # beyond 2 / curvature: it diverges
    batched, sequential = check_batch(specs, PROBLEMS["quadratic"], FLOAT64_RTOL)
    for spec, ours, theirs in zip(specs, batched, sequential):
        assert len(ours.trajectory) == len(theirs.trajectory) > 1, spec.label()
        if theirs.outcome.status is Status.OK:
            assert path_difference(ours, theirs) <= FLOAT64_RTOL
    if name == "sgd":
        assert sequential[-1].outcome.status is Status.DIVERGED and batched[-1].outcome.steps < STEPS


# ---- the suite and the runner ----

SUITE = """
name: vec
problems:
  linear: {steps: 60, eval_every: 20}
  curve: {steps: 60, eval_every: 20, options: {hidden: 8}}
  quadratic: {steps: 60, eval_every: 20, options: {noise: 0.1}}
optimizers: {sgd: {lr: [0.01, 0.1, 50.0]}, adam: {lr: [0.01]}}
seeds: [0, 1]
canary: false
"""


def run_suite(tmp_path, text, name):
    tmp_path.mkdir()
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    results = tmp_path / "results"
    process = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--results", str(results)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    suite_dir = results / "vec"
    (run_dir,) = [suite_dir / d for d in os.listdir(suite_dir)]
    with open(run_dir / "trials.jsonl") as lines:
        records = {r["trial_id"]: r for r in map(json.loads, lines)}
    with open(run_dir / "trajectories.csv") as rows:
        next(rows)
        for row in rows:
            trial_id, step, x, y = row.strip().split(",")
            records[trial_id].setdefault("path", []).append((int(step), float(x or "nan"), float(y or "nan")))
    return records, process.stderr, path


def test_a_vectorised_run_records_every_trial_as_the_sequential_run_does(tmp_path):
    sequential, _, _ = run_suite(tmp_path / "a", SUITE, "vec")
    vectorised, stderr, path = run_suite(tmp_path / "b", SUITE + "vectorise: true\n", "vec")
    plan = make_plan(load_suite(str(path)))
    assert set(vectorised) == set(sequential) == {t.trial_id for t in plan.trials}
    statuses = {r["status"] for r in vectorised.values()}
    assert statuses == {"ok", "diverged"}, statuses
    for trial_id, record in vectorised.items():
        other = sequential[trial_id]
        same = ("status", "steps", "config", "steps_to_target")
        assert [record[k] for k in same] == [other[k] for k in same]
        assert (record["timing_shared"], other["timing_shared"]) == ("batched", None)
        if record["status"] == "ok":
            assert record["final_loss"] == pytest.approx(other["final_loss"], rel=FLOAT32_RTOL)
        if record["config"]["problem"] == "quadratic":  # float64: the path as the sequential one's
            ours, theirs = record["path"], other["path"]
            assert [p[0] for p in ours] == [p[0] for p in theirs] and len(ours) > 1
            if record["status"] == "ok":
                flat = lambda path: [v for _, x, y in path for v in (x, y)]  # noqa: E731
                assert flat(ours) == pytest.approx(flat(theirs), rel=FLOAT64_RTOL, abs=1e-12)
    assert stderr.count(" ok ") + stderr.count(" diverged ") == len(plan.trials)


@pytest.mark.parametrize(
    "extra, key, says",
    [
        ("problems: [lenet]\n", "problems.lenet", "cannot be vectorised"),
        ("problems: {curve: {dropout: [0, 0.2]}}\n", "problems.curve.dropout", "no dropout"),
        ("problems: {curve: {batch_norm: true}}\n", "problems.curve.batch_norm", "no batch norm"),
        (
            "problems: {linear: {implementation: autograd}}\n",
            "problems.linear.implementation",
            "allowed torch",
        ),
        ("problems: {curve: {activation: gelu}}\n", "problems.curve.activation", "allowed none, identity"),
    ],
)
def test_what_cannot_be_vectorised_is_refused_by_name(tmp_path, extra, key, says):
    path = tmp_path / "bad.yaml"
    path.write_text("optimizers: [sgd]\nvectorise: true\n" + extra)
    with pytest.raises(SuiteError) as raised:
        load_suite(str(path))
    (message,) = raised.value.problems
    assert message.startswith(f"{path}: {key}: ") and says in message


def test_vectorise_is_a_boolean(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("problems: [linear]\noptimizers: [sgd]\nvectorise: yes please\n")
    with pytest.raises(SuiteError, match="vectorise: expected true or false"):
        load_suite(str(path))
