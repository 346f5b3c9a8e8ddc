"""The classic 2-D test functions, in closed form: value, gradient, start, minimiser, minimum.

Written with operators only (``+``, ``*``, ``**``), so one formula evaluates a Python float,
a NumPy grid (the report's contour plots) and a torch tensor (the autograd learner's graph).
NumPy and the standard library only: both halves import it, and the report must not need
torch to draw a contour.

Each surface also says where to look (``view``, the contour plot's window) and how far from
the minimiser a point may wander before its trial counts as diverged (``escape_radius``;
none for the saddle, where running off along the unstable direction is the right answer).
"""

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

Point = Tuple[float, float]


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str  # for captions and `optbench list`
    value: Callable[[Any, Any], Any]  # f(x, y)
    gradient: Callable[[Any, Any], Tuple[Any, Any]]  # (df/dx, df/dy), in closed form
    start: Point
    minimiser: Point  # the saddle's stationary point for the saddle
    minimum: float  # f at the minimiser: the f* of the suboptimality f - f*
    view: Tuple[Point, Point]  # ((x_min, x_max), (y_min, y_max)) of the contour plots
    escape_radius: Optional[float]  # |theta - minimiser| beyond which a trial has diverged

    def at(self, point: Point) -> float:
        return float(self.value(point[0], point[1]))


# -- Rosenbrock (a = 1, b = 100): a curved, flat-bottomed valley ------------------------------
ROSENBROCK_A, ROSENBROCK_B = 1.0, 100.0


def _rosenbrock(x, y):
    return (ROSENBROCK_A - x) ** 2 + ROSENBROCK_B * (y - x * x) ** 2


def _rosenbrock_gradient(x, y):
    valley = y - x * x
    return -2.0 * (ROSENBROCK_A - x) - 4.0 * ROSENBROCK_B * x * valley, 2.0 * ROSENBROCK_B * valley


# -- Beale: flat plateaus and steep walls, minimum at (3, 0.5) ---------------------------------
def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y * y * y


def _beale(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return t1 * t1 + t2 * t2 + t3 * t3


def _beale_gradient(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    dx = 2.0 * (t1 * (y - 1.0) + t2 * (y * y - 1.0) + t3 * (y * y * y - 1.0))
    dy = 2.0 * x * (t1 + 2.0 * t2 * y + 3.0 * t3 * y * y)
    return dx, dy


# -- Saddle: f = x^2 - y^2, unbounded below along y --------------------------------------------
def _saddle(x, y):
    return x * x - y * y


def _saddle_gradient(x, y):
    return 2.0 * x, -2.0 * y


# -- Quadratic: f = 1/2 (theta)^T H theta, H = R diag(1, 1/condition) R^T -----------------------
def quadratic(condition: float, angle_degrees: float = 0.0) -> Surface:
    """An ill-conditioned bowl whose largest curvature is 1 whatever the condition number, so
    one learning-rate grid serves every condition (plain gradient descent is stable exactly
    below lr = 2) and the condition number only slows the flat direction. ``angle_degrees``
    turns the axes of the bowl: at 0 it is aligned with the coordinates, which the
    per-coordinate methods (Adagrad, RMSprop, Adam) exploit; at 45 they cannot."""
    c, s = math.cos(math.radians(angle_degrees)), math.sin(math.radians(angle_degrees))
    small = 1.0 / condition
    # H's entries: eigenvalue 1 along (c, s), 1/condition along (-s, c).
    hxx, hyy, hxy = c * c + small * s * s, s * s + small * c * c, (1.0 - small) * c * s

    def value(x, y):
        return 0.5 * (hxx * x * x + 2.0 * hxy * x * y + hyy * y * y)

    def gradient(x, y):
        return hxx * x + hxy * y, hxy * x + hyy * y

    return Surface(
        name="quadratic",
        formula=f"1/2 θᵀHθ, eigenvalues 1 and 1/{condition:g}, axes turned {angle_degrees:g}°",
        # Not (1, 1): from there one sign-sized step of lr 1 (Adagrad's first, RMSprop's at lr
        # 0.1) lands exactly on the minimum, a coincidence of the grid rather than a result.
        value=value, gradient=gradient, start=(0.8, 1.2), minimiser=(0.0, 0.0), minimum=0.0,
        view=((-1.5, 1.5), (-1.5, 1.5)), escape_radius=1e3,
    )  # fmt: skip


def largest_curvature(surface_name: str) -> float:
    """L, the largest eigenvalue of the quadratic's Hessian: 1 by construction (see quadratic)."""
    if surface_name != "quadratic":
        raise ValueError(f"{surface_name} is not a quadratic: its curvature varies")
    return 1.0


SURFACES = {
    "rosenbrock": Surface(
        name="rosenbrock", formula="(1 - x)² + 100 (y - x²)²",
        value=_rosenbrock, gradient=_rosenbrock_gradient, start=(-1.2, 1.0), minimiser=(1.0, 1.0),
        minimum=0.0, view=((-2.0, 2.0), (-1.0, 3.0)), escape_radius=1e3,
    ),
    "beale": Surface(
        name="beale", formula="(1.5 - x + xy)² + (2.25 - x + xy²)² + (2.625 - x + xy³)²",
        value=_beale, gradient=_beale_gradient, start=(1.0, 1.0), minimiser=(3.0, 0.5), minimum=0.0,
        view=((-1.0, 4.5), (-1.5, 2.0)), escape_radius=1e3,
    ),
    "saddle": Surface(
        name="saddle", formula="x² - y²",
        value=_saddle, gradient=_saddle_gradient, start=(1.0, 1e-3), minimiser=(0.0, 0.0), minimum=0.0,
        view=((-1.5, 1.5), (-1.5, 1.5)), escape_radius=None,
    ),
}  # fmt: skip


def surface(name: str, options: Dict[str, Any]) -> Surface:
    """The surface a landscape problem's options describe: its start overridden by
    ``options["start"]`` when given, the quadratic shaped by ``condition`` and ``angle``."""
    if name == "quadratic":
        base = quadratic(float(options.get("condition", 10.0)), float(options.get("angle", 0.0)))
    else:
        base = SURFACES[name]
    start = options.get("start")
    if start is None:
        return base
    return Surface(
        name=base.name, formula=base.formula, value=base.value, gradient=base.gradient,
        start=(float(start[0]), float(start[1])), minimiser=base.minimiser, minimum=base.minimum,
        view=base.view, escape_radius=base.escape_radius,
    )  # fmt: skip
