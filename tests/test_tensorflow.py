"""Implementation tensorflow against torch: same data, same initial weights, same trajectory,
for every optimizer, both ways of updating (by hand, and by the Keras optimizer), eager and
tf.function; and what a suite gets where TensorFlow is absent. docs/TENSORFLOW.md says
what each tolerance stands for and what every difference between the frameworks measured.

Skipped, with the reason, where TensorFlow is not installed (the Jetson Nano's stack)."""

import copy
import os
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import ROOT, run_cli
from torch import nn

from bench import learners, store
from bench.learners import tensorflow_runtime
from bench.problems import curve, linear
from bench.problems.base import ModelSpec
from bench.suite import load_suite
from bench.validation import SuiteError

needs_tensorflow = pytest.mark.skipif(
    not tensorflow_runtime.available(),
    reason="TensorFlow is not installed (pip install 'optbench[tensorflow]')",
)

STEPS = 500
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
# Each problem's learning rates: where each optimizer trains steadily for 500 steps (the top of
# tests/test_learners.py's for linear-multi; the noisy line's default grids, the tutorial's 1e-4
# for the SGD family, whose limit there is ~1.2e-3).
LRS = {
    "linear-noisy": {"sgd": 1e-4, "momentum": 1e-4, "nesterov": 1e-4, "adagrad": 1.0, "rmsprop": 0.01,
                     "adam": 0.1, "adamw": 0.1},
    "linear-multi": {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5, "rmsprop": 0.0003,
                     "adam": 0.01, "adamw": 0.01},
}  # fmt: skip
# RMSprop on linear-multi at 0.0003, not test_learners' 0.001: from step 294 at 0.001 a weight at
# its optimum steps on its gradient's rounding noise (RMSprop's steps are ~lr however small the
# gradient), and there torch's own autograd implementation parts from torch.optim (4.4e-7) as
# far as TensorFlow does (2.3e-7): chaos in the optimizer, not a difference of the frameworks.
LINEAR = {problem.name: problem for problem in linear.PROBLEMS}
NO_AXES = ModelSpec("none", 0.0, False, {})
CURVE_OPTIONS = {"points": 200, "hidden": 32, "layers": 2}

# float64, updates by hand: the same formulas in both frameworks, so the trajectories differ
# only by float64 rounding (summation order in the products and the mean): measured at most
# 2e-15 relative over 500 steps; 1e-12 leaves room for other CPUs and BLAS builds, and a 0.01%
# change of the learning rate is far outside it (test_tolerance_sees_a_small_change).
RTOL_64 = 1e-12
# float32: as tests/test_learners.py's implementations, for the same reasons (float32 rounding,
# ~1e-7 per operation; losses near 1e-13 on the noise-free line need an absolute bound).
RTOL_32, ATOL_32 = 1e-4, 1e-6
# float64, the Keras optimizers on linear-multi: what Keras computes differently from torch even
# with matched hyper-parameters, each the measured largest relative loss difference over 500
# steps (docs/TENSORFLOW.md: sgd 8e-16, adagrad 3.9e-8, rmsprop 6.4e-9, momentum 9.3e-7,
# nesterov 6.9e-7, adam 2.9e-5, adamw 2.8e-5), times ~3. sgd: the same formula. adagrad, rmsprop: eps inside the root
# (rmsprop given eps**2 there). momentum, nesterov: Keras rounds the momentum to float32 before
# casting it to the variables' dtype (test_keras_momentum_is_float32_momentum shows that is all).
# adam, adamw: the same float32 rounding of beta_1 and beta_2 in the bias corrections, and eps
# added before the bias correction of v (the paper's eps-hat), not after.
KERAS_RTOL_64 = {"sgd": 1e-12, "adagrad": 1e-7, "rmsprop": 3e-8, "momentum": 3e-6, "nesterov": 3e-6,
                 "adam": 1e-4, "adamw": 1e-4}  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem(name, dtype):
    torch.manual_seed(0)
    if name == "curve":
        model, data = curve.curve_model(ModelSpec("tanh", 0.0, False, CURVE_OPTIONS)), curve.curve_data(0, CURVE_OPTIONS)  # fmt: skip
    else:
        model, data = LINEAR[name].make_model(NO_AXES), LINEAR[name].make_data(0, {})
    return model.to(dtype), data.x_train.to(dtype), data.y_train.to(dtype)


def _losses(implementation, model, x, y, optimizer, lr, hyper=None, steps=STEPS, **tensorflow):
    """The loss at every step, and the learner, trained from a copy of ``model``."""
    learner = learners.build(
        implementation, copy.deepcopy(model), nn.MSELoss(), optimizer, lr, hyper or {}, tensorflow or None
    )
    losses = torch.stack([learner.step(x, y) for _ in range(steps)]).numpy()
    return losses, learner


def _relative(got, want):
    return float(np.max(np.abs(got - want) / np.abs(want)))


@needs_tensorflow
@pytest.mark.parametrize("problem", sorted(LRS))
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_manual_updates_follow_torch_in_float64(problem, optimizer):
    model, x, y = _problem(problem, torch.float64)
    lr = LRS[problem][optimizer]
    want, reference = _losses("torch", model, x, y, optimizer, lr)
    assert want[-1] < 0.8 * want[0]  # it trained: the comparison means something
    got, learner = _losses("tensorflow", model, x, y, optimizer, lr, updates="manual")
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=RTOL_64, atol=0)
    for mine, theirs in zip(learner.module().parameters(), reference.module().parameters()):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)


# The hyper-parameters that change a rule's formula (tests/test_learners.py's variants).
VARIANTS = [
    ("sgd", 0.1, {"weight_decay": 0.01}),
    ("momentum", 0.1, {"dampening": 0.1, "weight_decay": 0.01}),
    ("nesterov", 0.1, {"momentum": 0.5, "weight_decay": 0.01}),
    ("adagrad", 0.5, {"lr_decay": 0.01, "weight_decay": 0.01}),
    ("rmsprop", 0.0003, {"momentum": 0.5, "weight_decay": 0.01}),
    ("adam", 0.05, {"weight_decay": 0.01}),
    ("adamw", 0.05, {"weight_decay": 0.1}),
]


@needs_tensorflow
@pytest.mark.parametrize("optimizer,lr,hyper", VARIANTS)
def test_manual_variants_follow_torch_in_float64(optimizer, lr, hyper):
    model, x, y = _problem("linear-multi", torch.float64)
    want, _ = _losses("torch", model, x, y, optimizer, lr, hyper, steps=300)
    got, _ = _losses("tensorflow", model, x, y, optimizer, lr, hyper, steps=300, updates="manual")
    np.testing.assert_allclose(got, want, rtol=RTOL_64, atol=0)


@needs_tensorflow
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu", "elu", "none"])
def test_manual_curve_mlp_follows_torch_in_float64(activation):
    torch.manual_seed(0)
    model = curve.curve_model(ModelSpec(activation, 0.0, False, CURVE_OPTIONS)).double()
    data = curve.curve_data(0, CURVE_OPTIONS)
    x, y = data.x_train.double(), data.y_train.double()
    want, _ = _losses("torch", model, x, y, "adam", 0.001, steps=300)
    assert want[-1] < 0.5 * want[0]
    got, _ = _losses("tensorflow", model, x, y, "adam", 0.001, steps=300, updates="manual")
    np.testing.assert_allclose(got, want, rtol=RTOL_64, atol=0)


@needs_tensorflow
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_keras_optimizers_follow_torch_in_float64(optimizer):
    model, x, y = _problem("linear-multi", torch.float64)
    lr = LRS["linear-multi"][optimizer]
    want, _ = _losses("torch", model, x, y, optimizer, lr)
    got, _ = _losses("tensorflow", model, x, y, optimizer, lr, updates="keras")
    np.testing.assert_allclose(got, want, rtol=KERAS_RTOL_64[optimizer], atol=0)


@needs_tensorflow
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_keras_momentum_is_float32_momentum(optimizer):
    """Keras' one difference here: torch given float32(0.9) takes Keras' path to rounding."""
    model, x, y = _problem("linear-multi", torch.float64)
    lr = LRS["linear-multi"][optimizer]
    as_keras = {"momentum": float(np.float32(0.9))}
    want, _ = _losses("torch", model, x, y, optimizer, lr, as_keras)
    got, _ = _losses("tensorflow", model, x, y, optimizer, lr, updates="keras")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    exact, _ = _losses("torch", model, x, y, optimizer, lr)
    assert _relative(got, exact) > 1e-7  # and the difference it makes is far above rounding


@needs_tensorflow
@pytest.mark.parametrize("updates", ["manual", "keras"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_float32_trajectories_agree(updates, optimizer):
    model, x, y = _problem("linear-multi", torch.float32)
    lr = LRS["linear-multi"][optimizer]
    want, _ = _losses("torch", model, x, y, optimizer, lr, steps=300)
    got, _ = _losses("tensorflow", model, x, y, optimizer, lr, steps=300, updates=updates)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=RTOL_32, atol=ATOL_32)


# float32 on the curve: tanh only. With relu and leaky_relu a unit whose input sits at the
# kink turns on in one framework and off in the other after ~200 steps of float32 rounding
# (TensorFlow's products round differently from torch's): 4.4e-3 measured for relu by hand,
# which float64 brings down to 1e-15 (test_manual_curve_mlp_follows_torch_in_float64).
@needs_tensorflow
@pytest.mark.parametrize("updates,optimizer,lr", [("manual", "sgd", 0.05), ("keras", "adam", 0.001)])
def test_curve_mlp_agrees_in_float32(updates, optimizer, lr):
    torch.manual_seed(0)
    model = curve.curve_model(ModelSpec("tanh", 0.0, False, CURVE_OPTIONS))
    data = curve.curve_data(0, CURVE_OPTIONS)
    want, _ = _losses("torch", model, data.x_train, data.y_train, optimizer, lr, steps=300)
    got, _ = _losses(
        "tensorflow", model, data.x_train, data.y_train, optimizer, lr, steps=300, updates=updates
    )
    assert want[-1] < want[0]
    np.testing.assert_allclose(got, want, rtol=RTOL_32, atol=ATOL_32)


@needs_tensorflow
@pytest.mark.parametrize("updates", ["manual", "keras"])
def test_tf_function_takes_the_eager_path(updates):
    model, x, y = _problem("curve", torch.float64)
    eager, _ = _losses("tensorflow", model, x, y, "adam", 0.01, steps=200, updates=updates)
    compiled, _ = _losses("tensorflow", model, x, y, "adam", 0.01, steps=200, updates=updates, compiled=True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-12, atol=0)


@needs_tensorflow
def test_tolerance_sees_a_small_change():
    model, x, y = _problem("linear-multi", torch.float64)
    want, _ = _losses("torch", model, x, y, "adam", 0.01)
    nudged, _ = _losses("tensorflow", model, x, y, "adam", 0.01 * 1.0001, updates="manual")
    assert _relative(nudged, want) > 100 * RTOL_64
    model, x, y = _problem("linear-multi", torch.float32)
    want, _ = _losses("torch", model, x, y, "adam", 0.01, steps=300)
    nudged, _ = _losses("tensorflow", model, x, y, "adam", 0.01 * 1.001, steps=300, updates="keras")
    assert not np.allclose(nudged, want, rtol=RTOL_32, atol=ATOL_32)


@needs_tensorflow
def test_refusals():
    model = LINEAR["linear"].make_model(NO_AXES)
    with pytest.raises(ValueError, match="Keras' SGD has no dampening .*tf_updates: manual"):
        learners.build("tensorflow", model, nn.MSELoss(), "momentum", 0.1, {"dampening": 0.1})
    with pytest.raises(ValueError, match="the tensorflow implementation has no Dropout"):
        from bench.problems.mlp import build_mlp

        learners.build("tensorflow", build_mlp([1, 4, 1], "tanh", dropout=0.5), nn.MSELoss(), "sgd", 0.1, {})
    with pytest.raises(ValueError, match="tf_updates must be one of keras, manual"):
        learners.build("tensorflow", model, nn.MSELoss(), "sgd", 0.1, {}, {"updates": "slow"})


@needs_tensorflow
def test_tensorflow_keeps_the_thread_count_it_started_with():
    tensorflow_runtime.start(1)  # this process's TensorFlow runs one thread (every test above)
    with pytest.raises(ValueError, match="sized once per process: this one runs 1 thread.*asks for 2"):
        tensorflow_runtime.start(2)


# --- through a suite ---------------------------------------------------------------------

SIDE_BY_SIDE = """\
problems: [linear-noisy]
optimizers: {sgd: {lr: 0.0001}, adam: {lr: 0.1}}
implementation: [torch, tensorflow]
tf_updates: [keras, manual]
budget: {steps: 60, eval_every: 20}
canary: false
"""


@needs_tensorflow
@pytest.mark.slow
def test_a_suite_runs_both_frameworks_side_by_side(tmp_path):
    (tmp_path / "both.yaml").write_text(SIDE_BY_SIDE)
    planned = run_cli("plan", "both.yaml", cwd=str(tmp_path))
    assert "linear-noisy tensorflow: tf_updates keras,manual; tf_function False\n" in planned.stdout
    done = run_cli("run", "both.yaml", "--results", "results", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    (run_dir,) = [str(p) for p in (tmp_path / "results" / "both").iterdir()]
    records = store.read_trials(run_dir)
    assert len(records) == 6  # per optimizer: torch, tensorflow keras, tensorflow manual
    for record in records:
        assert record.status.value == "ok", record.reason
        config = record.config
        if config["implementation"] == "torch":
            assert "tf_updates" not in config and "tf_function" not in config
        else:
            assert config["tf_function"] is False and config["tf_updates"] in ("keras", "manual")
    by_optimizer = {}
    for record in records:
        by_optimizer.setdefault(record.config["optimizer"], []).append(record)
    for group in by_optimizer.values():
        assert len({r.seed for r in group}) == 1  # one seed: the same data and initial weights
        losses = [r.final_loss for r in group]
        np.testing.assert_allclose(losses, losses[0], rtol=RTOL_32)
        weights = [r.learned["weight"][0][0] for r in group]
        np.testing.assert_allclose(weights, weights[0], rtol=RTOL_32)


# --- where TensorFlow is absent ------------------------------------------------------------

TF_SUITE = """\
problems: [linear]
optimizers: [sgd]
implementation: [torch, tensorflow]
"""
REFUSAL = r"implementation\[1\]: implementation 'tensorflow' needs TensorFlow, which is not installed here: pip install 'optbench\[tensorflow\]'"  # fmt: skip


@pytest.mark.skipif(
    tensorflow_runtime.available(), reason="TensorFlow is installed here (the case below covers it)"
)
def test_a_suite_asking_for_tensorflow_is_refused_where_it_is_absent(tmp_path):
    (tmp_path / "tf.yaml").write_text(TF_SUITE)
    with pytest.raises(SuiteError, match=REFUSAL):
        load_suite(str(tmp_path / "tf.yaml"))


def _site_packages_without_tensorflow(tmp_path):
    """This interpreter's site-packages as links, less TensorFlow and Keras: a real
    environment where they are absent, the rest as installed."""
    site = [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
    out = tmp_path / "site-packages"
    out.mkdir()
    for directory in site:
        for name in os.listdir(directory):
            lowered = name.lower()
            if lowered.startswith(("tensorflow", "keras", "tf_keras")) or (out / name).exists():
                continue
            (out / name).symlink_to(os.path.join(directory, name))
    return site, str(out)


@needs_tensorflow
def test_without_tensorflow_the_run_is_refused_before_any_trial(tmp_path):
    import subprocess

    site, replacement = _site_packages_without_tensorflow(tmp_path)
    (tmp_path / "tf.yaml").write_text(TF_SUITE)
    code = textwrap.dedent(
        """
        import sys
        sys.path = [p for p in sys.path if p not in {site!r}] + [{replacement!r}]
        from bench.cli import main
        sys.exit(main(["run", "tf.yaml", "--results", "results"]))
        """
    ).format(site=site, replacement=replacement)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=str(tmp_path), env=dict(os.environ, PYTHONPATH=ROOT),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tf.yaml: implementation[1]: implementation 'tensorflow' needs TensorFlow" in done.stderr
    assert "pip install 'optbench[tensorflow]'" in done.stderr
    assert not (tmp_path / "results").exists()  # nothing ran, nothing was recorded


# --- the landscapes ------------------------------------------------------------------------


def _landscape_path(function, optimizer, implementation, **tensorflow):
    """theta at every step through the trainer, as a suite runs it, noise included."""
    import dataclasses

    from test_landscapes_reference import LEARNING_RATES, _trial

    from bench.problems import PROBLEMS
    from bench.trainer import run_trial

    options = {"noise": 0.1, "start": None}
    if function == "quadratic":
        options.update(condition=10.0, angle=0.0)
    problem = PROBLEMS[function]
    trial = _trial(function, optimizer, LEARNING_RATES[function][optimizer], implementation, options)
    if implementation == "tensorflow":
        trial = dataclasses.replace(trial, tf_updates=tensorflow.get("updates", "keras"),
                                    tf_function=tensorflow.get("compiled", False))  # fmt: skip
    result = run_trial(trial, problem, problem.make_data(trial.seed, options))
    assert result.outcome.status.value == "ok", result.outcome.reason
    return np.array([(x, y) for _, x, y in result.trajectory])


@needs_tensorflow
@pytest.mark.parametrize("function", ["quadratic", "rosenbrock"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_landscape_paths_by_hand_follow_torch(function, optimizer):
    from test_landscapes_reference import RTOL, relative_difference

    want = _landscape_path(function, optimizer, "torch")
    got = _landscape_path(function, optimizer, "tensorflow", updates="manual")
    assert len(got) == len(want) == 501
    assert relative_difference(got, want) <= RTOL


@needs_tensorflow
@pytest.mark.parametrize("compiled", [False, True])
def test_landscape_path_with_keras_sgd_follows_torch(compiled):
    from test_landscapes_reference import RTOL, relative_difference

    want = _landscape_path("rosenbrock", "sgd", "torch")
    got = _landscape_path("rosenbrock", "sgd", "tensorflow", updates="keras", compiled=compiled)
    assert relative_difference(got, want) <= RTOL
