"""The optimizer landscapes: classic 2-D test functions, where each optimizer's path can be drawn.

The "model" is a point theta = (x, y), started where the function says (or where the suite's
``start`` option puts it); the loss is the function's value there. There is no data: a step
sees the exact gradient, or, with the ``noise`` option, the exact gradient plus seeded
Gaussian noise of that standard deviation per coordinate -- what single-sample SGD sees
of a finite sum. The functions themselves are in bench.surfaces.
"""

from typing import Any, Dict, Tuple

import torch
from torch import nn

from bench import surfaces
from bench.problems.base import ModelSpec, Option, Problem, ProblemData, Target

# The target on the suboptimality f(theta) - f*. The bowl's is tight (every optimizer can reach
# it); Rosenbrock's and Beale's flat valleys take thousands of plain gradient steps to 1e-6, so
# theirs asks for 1e-4. The saddle's is an escape: f fell 1 below the saddle point's value.
TARGET = 1e-6
VALLEY_TARGET = 1e-4
SADDLE_ESCAPE = -1.0


class Point(nn.Module):
    """theta as the one parameter (float64: the trajectories are compared to 1e-9), and the
    function it is evaluated on; ``noise_sd`` and ``noise_seed`` for the learners' noise."""

    def __init__(self, surface: surfaces.Surface, noise_sd: float, noise_seed: int):
        super().__init__()
        self.surface = surface
        self.theta = nn.Parameter(torch.tensor(surface.start, dtype=torch.float64))
        self.noise_sd = noise_sd
        self.noise_seed = noise_seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.surface.value(self.theta[0], self.theta[1])


def _surface(name: str, options: Dict[str, Any]) -> surfaces.Surface:
    return surfaces.surface(name, options)


def _data(name: str):
    def make(seed: int, options: Dict[str, Any]) -> ProblemData:
        surface = _surface(name, options)
        # One placeholder sample: the trainer's batching and evaluation need tensors, the
        # function needs none. The "test split" holds f*, so the metric is f - f*.
        placeholder = torch.zeros((1, 2), dtype=torch.float64)
        optimum = torch.full((1, 1), surface.minimum, dtype=torch.float64)
        notes = {
            "function": surface.name, "formula": surface.formula, "start": list(surface.start),
            "minimiser": list(surface.minimiser), "minimum": surface.minimum,
            "noise_sd": float(options.get("noise", 0.0)),
        }  # fmt: skip
        # The quadratic's shape, so that a reader (the report's contours) can rebuild the function.
        notes.update({k: float(options[k]) for k in ("condition", "angle") if k in options})
        return ProblemData(placeholder, torch.zeros((1, 1), dtype=torch.float64), placeholder, optimum,
                           optimum_loss=surface.minimum, notes=notes)  # fmt: skip

    return make


def _model(name: str):
    def make(spec: ModelSpec) -> nn.Module:
        # Drawn from torch's generator, which the trainer seeds with the trial's seed before
        # building the model, as every other problem draws its initial weights: the noise
        # is the same for every optimizer and implementation of one seed.
        noise_seed = int(torch.randint(0, 2**31 - 1, (1,)))
        return Point(_surface(name, spec.options), float(spec.options.get("noise", 0.0)), noise_seed)

    return make


def _options(extra: Dict[str, Option] = None) -> Dict[str, Option]:
    options = {
        "start": Option(None, "the start point [x, y] (default: the function's own)", kind=tuple),
        "noise": Option(0.0, "standard deviation of the Gaussian noise added to each gradient coordinate",
                        kind=float, minimum=0.0),
    }  # fmt: skip
    options.update(extra or {})
    return options


# Learning-rate grids, from timid to (for SGD) unstable. Every optimizer's grid on a function
# holds that function's COMMON_LR, so the report can also show them all at one rate.
def _lr_grid(sgd_like: Tuple[float, ...], adaptive: Tuple[float, ...], adagrad: Tuple[float, ...]):
    grid = {name: sgd_like for name in ("sgd", "momentum", "nesterov")}
    grid.update({name: adaptive for name in ("rmsprop", "adam", "adamw")})
    grid["adagrad"] = adagrad
    return grid


# Rosenbrock's and Beale's curvature runs to ~1000 near their start: SGD is stable below ~2e-3,
# while the per-coordinate methods step ~lr whatever the gradient's scale.
_STEEP = _lr_grid((3e-4, 1e-3, 3e-3), (1e-3, 1e-2, 1e-1), (1e-3, 1e-1, 1.0))
COMMON_LR = {"rosenbrock": 1e-3, "beale": 1e-3, "saddle": 0.1, "quadratic": 0.1}


def _problem(name: str, summary: str, target: Target, steps: int, lr, options=None) -> Problem:
    return Problem(
        name=name, summary=summary, task="landscape", metric_name="suboptimality", target=target,
        make_data=_data(name), make_model=_model(name), default_steps=steps, default_eval_every=10,
        takes_batch=False, implementations=("torch", "autograd", "numpy", "tensorflow"), options=_options(options),
        default_lr=lr,
    )  # fmt: skip


PROBLEMS = [
    _problem("rosenbrock", "Rosenbrock's valley (1 - x)² + 100 (y - x²)², from (-1.2, 1); 2-D",
             Target("suboptimality", VALLEY_TARGET), 1000, _STEEP),
    _problem("beale", "Beale's function, plateaus and steep walls, minimum at (3, 0.5), from (1, 1); 2-D",
             Target("suboptimality", VALLEY_TARGET), 1000, _STEEP),
    _problem("saddle", "the saddle x² - y², from (1, 0.001), just off the ridge: who escapes; 2-D",
             Target("suboptimality", SADDLE_ESCAPE), 300,
             _lr_grid((0.01, 0.1, 0.3), (0.01, 0.1, 0.3), (0.1, 0.3, 1.0))),
    _problem("quadratic", "an ill-conditioned bowl ½θᵀHθ, largest curvature 1, from (0.8, 1.2); 2-D",
             Target("suboptimality", TARGET), 500,
             # largest curvature 1: SGD converges below lr 2 and diverges above it (2.1)
             _lr_grid((0.1, 1.0, 1.9, 2.1), (0.01, 0.1, 0.3), (0.1, 0.5, 1.0)),
             {"condition": Option(10.0, "the condition number of H (largest over smallest curvature)",
                                  kind=float, minimum=1.0),
              "angle": Option(0.0, "degrees by which the bowl's axes are turned from the coordinates",
                              kind=float, minimum=None)}),
]  # fmt: skip

LANDSCAPE_NAMES = frozenset(p.name for p in PROBLEMS)
