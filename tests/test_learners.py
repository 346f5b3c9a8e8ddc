"""The autograd and numpy implementations against torch: same data, same initial weights,
same trajectory; their update rules against torch.optim; and what they refuse."""

import copy
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
import torch
from torch import nn

from bench import learners, optimizers
from bench.learners import update_rules
from bench.learners.numpy_mlp import NumpyLearner
from bench.problems import curve, linear
from bench.problems.base import ModelSpec, ProblemData
from bench.problems.mlp import build_mlp

IMPLEMENTATIONS = ("torch", "autograd", "numpy")
STEPS = 300

# "Same trajectory" tolerance. The three differ only in float32 rounding (summation order in
# the matrix products and the mean, addmm against matmul + add, torch 2's lerp against
# mul + add in Adam): ~1e-7 relative per operation. With the learning rates below training
# is stable: over 300 steps no loss or parameter used more than 7% of the tolerance
# (measured on torch 2.13 and 1.10), a 15x margin for other CPUs and BLAS builds, while a
# real difference, even a 0.1% change of the learning rate, is far outside it
# (test_tolerance_sees_a_small_change).
# The learning rates stay clear of the edge of stability on purpose: there (the curve with
# SGD at lr 0.1, say) training is chaotic, and rounding differences between any two
# float32 implementations grow exponentially after ~150 steps.
# Losses: ATOL because the noise-free line's loss reaches 1e-13, where only an absolute bound
# means anything. Parameters: within RTOL of their tensor's largest entry, not of their own
# size. Adam and RMSprop scale each coordinate's step to ~lr, so a weight whose gradient is
# ~0 steps on that gradient's rounding noise near zero, where a per-entry rtol would ask for
# more digits than float32 has (seen: 2e-6 apart at 2e-3).
RTOL, ATOL = 1e-4, 1e-6

LINEAR = {problem.name: problem for problem in linear.PROBLEMS}
NO_AXES = ModelSpec("none", 0.0, False, {})
CURVE_OPTIONS = {"points": 200, "hidden": 32, "layers": 2}


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: one thread is faster, and steadier on a loaded 2-core CI box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(
    implementation: str,
    model: nn.Module,
    data: ProblemData,
    optimizer: str,
    lr: float,
    hyper: Dict[str, Any],
    steps: int = STEPS,
) -> Tuple[np.ndarray, List[np.ndarray]]:
    """The loss at every step and the final parameters, from a copy of ``model``."""
    model = copy.deepcopy(model)
    learner = learners.build(implementation, model, nn.MSELoss(), optimizer, lr, hyper)
    learner.train()
    losses = torch.stack([learner.step(data.x_train, data.y_train) for _ in range(steps)])
    params = [p.detach().cpu().numpy().copy() for p in learner.module().parameters()]
    return losses.cpu().numpy(), params


def _assert_same_trajectory(model, data, optimizer, lr, hyper):
    reference_losses, reference_params = _run("torch", model, data, optimizer, lr, hyper)
    assert np.isfinite(reference_losses).all()
    assert reference_losses[-1] < reference_losses[0]  # it trained: the comparison means something
    for implementation in IMPLEMENTATIONS[1:]:
        losses, params = _run(implementation, model, data, optimizer, lr, hyper)
        np.testing.assert_allclose(
            losses, reference_losses, rtol=RTOL, atol=ATOL, err_msg=implementation + " losses"
        )
        for got, want in zip(params, reference_params):
            atol = RTOL * np.abs(want).max()  # see RTOL
            np.testing.assert_allclose(
                got, want, rtol=RTOL, atol=atol, err_msg=implementation + " parameters"
            )


def _linear(name):
    torch.manual_seed(0)
    problem = LINEAR[name]
    return problem.make_model(NO_AXES), problem.make_data(0, {})


# Each rule with its defaults. The learning rates are the top of each grid (the problem's
# default_lr, else bench.optimizers') where the comparison holds: RMSprop's and Adam's steps
# are ~lr however small the gradient, so from lr 0.003 up RMSprop reaches linear-multi's
# optimum within 300 steps and then steps on the gradient's rounding noise, as Adam does on
# a coordinate whose gradient is ~0 once beta2 is short (0.99, so other betas are checked
# in test_rule_matches_torch_optim only).
LINEAR_CASES = [
    ("sgd", 0.5, {}),
    ("momentum", 0.1, {}),
    ("nesterov", 0.1, {}),
    ("adagrad", 0.5, {}),
    ("rmsprop", 0.001, {}),
    ("adam", 0.01, {}),
    ("adamw", 0.01, {}),
]
# The hyper-parameters that change a rule's formula: on linear-multi alone, to save time.
VARIANT_CASES = [
    ("sgd", 0.1, {"weight_decay": 0.01}),
    ("momentum", 0.1, {"dampening": 0.1, "weight_decay": 0.01}),
    ("nesterov", 0.1, {"momentum": 0.5, "weight_decay": 0.01}),
    ("adagrad", 0.5, {"lr_decay": 0.01, "weight_decay": 0.01}),
    ("rmsprop", 0.001, {"momentum": 0.5, "weight_decay": 0.01}),
    ("adam", 0.05, {"weight_decay": 0.01}),
    ("adamw", 0.05, {"weight_decay": 0.1}),
]


@pytest.mark.parametrize(
    "problem,optimizer,lr,hyper",
    [(problem,) + case for problem in ("linear", "linear-multi") for case in LINEAR_CASES]
    + [("linear-multi",) + case for case in VARIANT_CASES],
)
def test_linear_trajectories_agree(problem, optimizer, lr, hyper):
    model, data = _linear(problem)
    _assert_same_trajectory(model, data, optimizer, lr, hyper)


@pytest.mark.parametrize("activation", ["tanh", "relu", "none", "sigmoid", "leaky_relu", "elu"])
@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.05), ("adam", 0.001)])
def test_curve_trajectories_agree(activation, optimizer, lr):
    torch.manual_seed(0)
    model = curve.curve_model(ModelSpec(activation, 0.0, False, CURVE_OPTIONS))
    data = curve.curve_data(0, CURVE_OPTIONS)
    _assert_same_trajectory(model, data, optimizer, lr, {})


def test_tolerance_sees_a_small_change():
    model, data = _linear("linear-multi")
    reference, _ = _run("torch", model, data, "adam", 0.01, {})
    nudged, _ = _run("numpy", model, data, "adam", 0.01 * 1.001, {})
    assert not np.allclose(nudged, reference, rtol=RTOL, atol=ATOL)


def test_learner_interface():
    model, data = _linear("linear-multi")
    for implementation in IMPLEMENTATIONS[1:]:
        learner = learners.build(implementation, copy.deepcopy(model), nn.MSELoss(), "sgd", 0.1, {})
        with torch.no_grad():
            before = nn.functional.mse_loss(model(data.x_train), data.y_train)
        loss = learner.step(data.x_train, data.y_train)
        assert loss.dim() == 0 and loss.dtype == torch.float32 and not loss.requires_grad
        assert float(loss) == pytest.approx(float(before), rel=1e-6)  # the loss before the update
        learner.eval()
        with torch.no_grad():
            predicted = learner.predict(data.x_test)
            from_module = learner.module()(data.x_test)
        assert predicted.shape == data.y_test.shape
        np.testing.assert_allclose(predicted.numpy(), from_module.numpy(), rtol=1e-5, atol=1e-6)
        assert not torch.equal(learner.module().weight, model.weight)  # it moved


# --- update rules against torch.optim, on one float64 tensor: only the formula differs ---

RULE_CASES = [
    ("sgd", {}),
    ("sgd", {"weight_decay": 0.1}),
    ("momentum", {}),
    ("momentum", {"dampening": 0.3, "weight_decay": 0.1}),  # the undamped first step shows
    ("nesterov", {"momentum": 0.7, "weight_decay": 0.1}),
    ("adagrad", {"lr_decay": 0.1, "weight_decay": 0.1, "eps": 1e-3}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1, "eps": 1e-3}),
    ("adam", {}),
    ("adam", {"betas": [0.8, 0.9], "weight_decay": 0.1, "eps": 1e-3}),
    ("adamw", {}),
    ("adamw", {"weight_decay": 0.5}),
]


def test_every_hand_written_optimizer_has_a_rule():
    assert set(update_rules.RULES) == set(learners.HAND_WRITTEN_OPTIMIZERS)


@pytest.mark.parametrize("name,hyper", RULE_CASES)
def test_rule_matches_torch_optim(name, hyper):
    generator = torch.Generator().manual_seed(1)
    start = torch.randn(3, 4, generator=generator, dtype=torch.float64)
    grads = [torch.randn(3, 4, generator=generator, dtype=torch.float64) for _ in range(8)]
    reference = nn.Parameter(start.clone())
    optimizer = optimizers.build(name, [reference], 0.05, hyper)
    tensor, array = start.clone(), start.numpy().copy()
    by_tensor = update_rules.HandWrittenOptimizer(name, [tensor], 0.05, hyper)
    by_array = update_rules.HandWrittenOptimizer(name, [array], 0.05, hyper)
    for g in grads:
        reference.grad = g.clone()
        optimizer.step()
        g_tensor, g_array = g.clone(), g.numpy().copy()
        by_tensor.step([g_tensor])
        by_array.step([g_array])
        assert torch.equal(g_tensor, g) and np.array_equal(g_array, g.numpy())  # grads untouched
        want = reference.detach().numpy()
        np.testing.assert_allclose(tensor.numpy(), want, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(array, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(update_rules.RULES))
def test_rule_keeps_float32(name):
    param = np.ones(4, dtype=np.float32)
    rule = update_rules.HandWrittenOptimizer(name, [param], np.float64(0.1), {})
    for _ in range(2):
        rule.step([np.full(4, 0.5, dtype=np.float32)])
    assert param.dtype == np.float32
    assert all(v.dtype == np.float32 for v in rule.states[0].values() if hasattr(v, "dtype"))


def test_rule_refuses_unknown_names():
    with pytest.raises(ValueError, match="'lbfgs' has no hand-written update; .*adamw"):
        update_rules.rule("lbfgs", 0.1, {})
    message = "'sgd' takes no hyper-parameter 'momentum'; .*weight_decay"
    with pytest.raises(ValueError, match=message):
        update_rules.rule("sgd", 0.1, {"momentum": 0.9})


# --- refusals ---


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS[1:])
@pytest.mark.parametrize(
    "model,message",
    [
        (build_mlp([1, 8, 1], "tanh", dropout=0.5), "has no Dropout .*use implementation 'torch'"),
        (build_mlp([1, 8, 1], "tanh", batch_norm=True), "has no BatchNorm1d"),
        (build_mlp([1, 8, 1], "gelu"), "cannot run a GELU layer; .*leaky_relu, elu"),
        (nn.Sequential(nn.Conv2d(1, 1, 3)), "cannot run a Conv2d layer"),
        (nn.Sequential(nn.Linear(1, 1, bias=False)), "needs Linear layers with a bias"),
        (nn.Bilinear(1, 1, 1), "needs an MLP .*not a Bilinear"),
    ],
)
def test_refuses_what_it_does_not_write_out(implementation, model, message):
    with pytest.raises(ValueError, match=f"the {implementation} implementation {message}"):
        learners.build(implementation, model, nn.MSELoss(), "sgd", 0.1, {})


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS[1:])
@pytest.mark.parametrize("loss_fn", [nn.L1Loss(), nn.MSELoss(reduction="sum"), nn.CrossEntropyLoss()])
def test_refuses_other_losses(implementation, loss_fn):
    with pytest.raises(ValueError, match="writes out only nn.MSELoss"):
        learners.build(implementation, build_mlp([1, 1]), loss_fn, "sgd", 0.1, {})


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS[1:])
def test_refuses_other_optimizers(implementation):
    with pytest.raises(ValueError, match="no hand-written update"):
        learners.build(implementation, build_mlp([1, 1]), nn.MSELoss(), "lbfgs", 0.1, {})


# --- CUDA ---


@pytest.mark.cuda
@pytest.mark.filterwarnings("ignore:Synchronization debug mode is a prototype")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_autograd_on_cuda():
    torch.manual_seed(0)
    model = curve.curve_model(ModelSpec("tanh", 0.0, False, CURVE_OPTIONS)).cuda()
    data = curve.curve_data(0, CURVE_OPTIONS)
    x, y = data.x_train.cuda(), data.y_train.cuda()
    learner = learners.build("autograd", copy.deepcopy(model), nn.MSELoss(), "adam", 0.001, {})
    reference = learners.build("torch", copy.deepcopy(model), nn.MSELoss(), "adam", 0.001, {})
    learner.step(x, y)  # the first step allocates the optimizer state
    # Any host sync inside step() (an .item(), a copy to the CPU) raises from here on.
    debug_mode = getattr(torch.cuda, "set_sync_debug_mode", None)
    if debug_mode is not None:
        debug_mode("error")
    try:
        losses = [learner.step(x, y) for _ in range(STEPS - 1)]
    finally:
        if debug_mode is not None:
            debug_mode("default")
    assert losses[-1].is_cuda and all(p.is_cuda for p in learner.module().parameters())
    want = torch.stack([reference.step(x, y) for _ in range(STEPS)])[1:]
    # Looser than RTOL: with TF32 (torch 1.10's default on Ampere) each product rounds to
    # ~1e-3, in addmm and matmul differently. An H100 on torch 2.11 agreed to 1e-6.
    np.testing.assert_allclose(torch.stack(losses).cpu().numpy(), want.cpu().numpy(), rtol=1e-3)
    with pytest.raises(ValueError, match="runs on the CPU only"):
        NumpyLearner(model, nn.MSELoss(), "sgd", 0.1, {})
