"""The linear-regression problems: a line, a noisy line, and a multi-output linear map.

All three have a closed-form least-squares optimum, so a trial records how far the
optimizer got from it (suboptimality), not just a loss.
"""

from typing import Any, Dict, Tuple

import numpy as np
import torch

from bench.problems.base import ModelSpec, Option, Problem, ProblemData, Target


def _split(x: np.ndarray, y: np.ndarray, rng: np.random.RandomState, test_fraction: float):
    order = rng.permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def _least_squares(x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray, float]:
    """The weight, bias and mean squared error minimising the MSE on (x, y), in float64."""
    design = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    solution = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0]
    residual = design.dot(solution) - y
    return solution[:-1].T, solution[-1], float(np.mean(residual**2))


def _make(x, y, rng, truth: Dict[str, Any], test_fraction: float = 0.2) -> ProblemData:
    x_train, y_train, x_test, y_test = _split(x, y, rng, test_fraction)
    weight, bias, optimum = _least_squares(x_train, y_train)
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    return ProblemData(
        as_tensor(x_train),
        as_tensor(y_train),
        as_tensor(x_test),
        as_tensor(y_test),
        optimum_loss=optimum,
        truth=truth,
        optimum_params={"weight": weight.tolist(), "bias": np.atleast_1d(bias).tolist()},
    )


def line_data(seed: int, options: Dict[str, Any]) -> ProblemData:
    """y = 3x + 0.8 on 50 points, x ~ U(0, 1): the first tutorial's data, noise-free."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(0.0, 1.0, size=(50, 1))
    y = 3.0 * x + 0.8
    return _make(x, y, rng, {"weight": [[3.0]], "bias": [0.8]})


def noisy_line_data(seed: int, options: Dict[str, Any]) -> ProblemData:
    """100 points of y = 2x + 1 over [0, 50], uniform noise of +-10 on both x and y.

    x is not rescaled on purpose: that is the tutorial's data, and its ill-conditioning
    (E[x^2] ~ 10^3 against 1 for the bias) is what separates SGD from adaptive methods here.
    """
    rng = np.random.RandomState(seed)
    x_clean = np.linspace(0.0, 50.0, 100).reshape(-1, 1)
    x = x_clean + rng.uniform(-10.0, 10.0, size=x_clean.shape)
    y = 2.0 * x_clean + 1.0 + rng.uniform(-10.0, 10.0, size=x_clean.shape)
    return _make(x, y, rng, {"weight": [[2.0]], "bias": [1.0]})


def multi_output_data(seed: int, options: Dict[str, Any]) -> ProblemData:
    """A 3-input, 4-output linear map, x ~ N(0, 1), 200 points, Gaussian noise sd 0.1."""
    rng = np.random.RandomState(seed)
    weight = rng.normal(0.0, 1.0, size=(4, 3))
    bias = rng.normal(0.0, 1.0, size=4)
    x = rng.normal(0.0, 1.0, size=(200, 3))
    y = x.dot(weight.T) + bias + rng.normal(0.0, 0.1, size=(200, 4))
    return _make(x, y, rng, {"weight": weight.tolist(), "bias": bias.tolist()})


def _linear_model(inputs: int, outputs: int):
    def make(spec: ModelSpec) -> torch.nn.Module:
        # The tutorial's model itself, not an nn.Sequential around it: on a 1x1 model the
        # wrapper's extra module call was 3% of a step (docs/PERFORMANCE.md). The hand-written
        # implementations read it as a one-layer MLP (bench.learners.autograd.read_mlp).
        model = torch.nn.Linear(inputs, outputs)
        if spec.options.get("init", "default") == "zeros":  # the autodiff tutorial's W = b = 0
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.zero_()
        return model

    return make


# The linear problems' one option. Left out of a trial's options unless a suite sets it, so
# every trial recorded before it came keeps its id and seed.
INIT = {
    "init": Option(
        "default", "initial weights: default (nn.Linear's, from the trial's seed) or zeros (W = b = 0, "
        "the autodiff tutorial's start)", choices=("default", "zeros"), omit_default=True,
    )
}  # fmt: skip


def learned_parameters(model: torch.nn.Linear) -> Dict[str, Any]:
    """weight and bias of the linear problems' model (an nn.Linear), as nested lists."""
    return {
        "weight": model.weight.detach().cpu().double().tolist(),
        "bias": model.bias.detach().cpu().double().tolist(),
    }


_SGD_LIKE_SMALL = (1e-5, 1e-4, 1e-3)  # x up to 60: SGD is stable only below ~1.2e-3

PROBLEMS = [
    Problem(
        name="linear",
        summary="y = 3x + 0.8 on 50 points, x ~ U(0,1); nn.Linear(1, 1)",
        task="regression",
        metric_name="mse",
        target=Target("loss", 1e-4),
        make_data=line_data,
        make_model=_linear_model(1, 1),
        default_steps=300,
        default_eval_every=10,
        implementations=("torch", "autograd", "numpy", "tensorflow"),
        options=INIT,
        default_lr={"sgd": (0.01, 0.1, 0.5), "momentum": (0.01, 0.1), "nesterov": (0.01, 0.1)},
    ),
    Problem(
        name="linear-noisy",
        summary="100 points on y = 2x + 1 over [0, 50], noise +-10 on x and y; nn.Linear(1, 1)",
        task="regression",
        metric_name="mse",
        target=Target("suboptimality", 1.0),
        make_data=noisy_line_data,
        make_model=_linear_model(1, 1),
        default_steps=500,
        default_eval_every=10,
        implementations=("torch", "autograd", "numpy", "tensorflow"),
        options=INIT,
        default_lr={
            "sgd": _SGD_LIKE_SMALL,
            "momentum": _SGD_LIKE_SMALL,
            "nesterov": _SGD_LIKE_SMALL,
            "adam": (0.01, 0.1, 1.0),
            "adamw": (0.01, 0.1, 1.0),
            "adagrad": (0.1, 1.0, 5.0),
            "rmsprop": (0.001, 0.01, 0.1),
        },
    ),
    Problem(
        name="linear-multi",
        summary="a 3-input, 4-output linear map with noise; nn.Linear(3, 4)",
        task="regression",
        metric_name="mse",
        target=Target("suboptimality", 1e-3),
        make_data=multi_output_data,
        make_model=_linear_model(3, 4),
        default_steps=300,
        default_eval_every=10,
        implementations=("torch", "autograd", "numpy", "tensorflow"),
        options=INIT,
        default_lr={"sgd": (0.01, 0.1, 0.5)},
    ),
]

# For the linear problems a trial also records the learned parameters.
LINEAR_NAMES = frozenset(p.name for p in PROBLEMS)
