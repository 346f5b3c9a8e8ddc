"""A small MLP fitting a 1-D curve that dips below zero: the "why activations" lesson.

y = sin(3x) + noise on x ~ U(-1, 1). Without an activation the MLP is a linear map and
cannot do better than the best line (test MSE ~ 0.2); with Tanh it fits to the noise.
"""

from typing import Any, Dict

import numpy as np
import torch

from bench.problems.base import ModelSpec, Option, Problem, ProblemData, Target
from bench.problems.mlp import build_mlp

NOISE_SD = 0.05  # so the best achievable MSE is ~0.0025, far below the target


def curve_data(seed: int, options: Dict[str, Any]) -> ProblemData:
    rng = np.random.RandomState(seed)
    n = int(options["points"])
    x = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = np.sin(3.0 * x) + rng.normal(0.0, NOISE_SD, size=x.shape)
    n_test = n // 5
    as_tensor = lambda a: torch.from_numpy(a.astype(np.float32))  # noqa: E731
    return ProblemData(
        as_tensor(x[n_test:]),
        as_tensor(y[n_test:]),
        as_tensor(x[:n_test]),
        as_tensor(y[:n_test]),
        notes={"curve": "sin(3x)", "noise_sd": NOISE_SD},
    )


def curve_model(spec: ModelSpec) -> torch.nn.Module:
    hidden = int(spec.options["hidden"])
    sizes = [1] + [hidden] * int(spec.options["layers"]) + [1]
    return build_mlp(sizes, spec.activation, spec.dropout, spec.batch_norm)


PROBLEMS = [
    Problem(
        name="curve",
        summary="MLP (2 hidden layers of 32) fitting y = sin(3x) + noise on [-1, 1]",
        task="regression",
        metric_name="mse",
        target=Target("metric", 0.01),
        make_data=curve_data,
        make_model=curve_model,
        default_steps=1000,
        default_eval_every=20,
        default_activation="tanh",
        takes_activation=True,
        takes_dropout=True,
        takes_batch_norm=True,
        implementations=("torch", "autograd", "numpy", "tensorflow"),
        options={
            "points": Option(
                200, "number of (x, y) points, a fifth held out for testing", kind=int, minimum=5
            ),
            "hidden": Option(32, "width of each hidden layer", kind=int, minimum=1),
            "layers": Option(2, "number of hidden layers", kind=int),
        },
        default_lr={"sgd": (0.01, 0.1, 0.5), "momentum": (0.01, 0.1), "nesterov": (0.01, 0.1)},
    )
]
