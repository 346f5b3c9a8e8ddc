"""What every tutorial problem declares: data, model, loss, metric, target, and its options."""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import torch
from torch import nn


@dataclass(frozen=True)
class Target:
    """The convergence target: when ``quantity`` first crosses ``value`` the trial "reached" it.

    quantity is one of: "loss" (training objective on the whole training set),
    "suboptimality" (loss minus the closed-form optimum), "metric" (on the test split).
    """

    quantity: str
    value: float
    direction: str = "below"  # or "above" (accuracy)

    def reached(self, observed: Optional[float]) -> bool:
        if observed is None or observed != observed:  # NaN never reaches anything
            return False
        return observed <= self.value if self.direction == "below" else observed >= self.value

    def to_json_dict(self) -> Dict[str, Any]:
        return {"quantity": self.quantity, "value": self.value, "direction": self.direction}


@dataclass(frozen=True)
class Option:
    """A problem-specific suite option (``problems: {lenet: {data: mnist}}``)."""

    default: Any
    help: str
    choices: Optional[Tuple[Any, ...]] = None  # allowed values, when a closed set
    kind: type = str  # the Python type a value must have (int also accepts for float)
    # The smallest value that makes sense: of a whole number (a size of 0 does not), or of a
    # number option (kind float); None: any number. A tuple option is a point: two numbers.
    minimum: Optional[float] = 0
    # An option added to a problem after its trials were first recorded: left out of a trial's
    # options while the suite does not set it, so that the ids and seeds of the trials recorded
    # before it came stay as they were. The problem reads it with options.get(name, default).
    omit_default: bool = False


@dataclass
class ProblemData:
    """Tensors on the CPU; the trainer moves them to the trial's device once."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    # Closed-form optimum of the training loss (mean squared error), where one exists.
    optimum_loss: Optional[float] = None
    # The parameters that generated the data, and the least-squares optimum: for the report.
    truth: Optional[Dict[str, Any]] = None
    optimum_params: Optional[Dict[str, Any]] = None
    notes: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """How the problem's model is built for one trial."""

    activation: str  # a name from bench.activations
    dropout: float
    batch_norm: bool
    options: Dict[str, Any]


@dataclass(frozen=True)
class Problem:
    name: str
    summary: str
    task: str  # "regression", "classification" or "landscape" (a 2-D test function)
    metric_name: str  # "mse", "accuracy" or "suboptimality"
    target: Target
    make_data: Callable[[int, Dict[str, Any]], ProblemData]  # (seed, options)
    make_model: Callable[[ModelSpec], nn.Module]  # called after torch.manual_seed(seed)
    default_steps: int
    default_eval_every: int
    default_activation: str = "none"
    # The suite axes this problem's model takes; a value on any other axis is meaningless
    # for it, so that axis collapses to its neutral value (and `optbench plan` says so).
    takes_activation: bool = False
    takes_dropout: bool = False
    takes_batch_norm: bool = False
    # A landscape has no data to batch: its "batch" is the whole function, every step.
    takes_batch: bool = True
    # Implementations beyond "torch" (nn + optim): see bench.learners.
    implementations: Tuple[str, ...] = ("torch",)
    options: Dict[str, Option] = field(default_factory=dict)
    # Learning-rate grids that make sense for this problem, by optimizer, when the suite
    # names an optimizer without its own lr list.
    default_lr: Dict[str, Tuple[float, ...]] = field(default_factory=dict)

    def loss_fn(self) -> nn.Module:
        if self.task == "landscape":
            return Objective()
        return nn.MSELoss() if self.task == "regression" else nn.CrossEntropyLoss()

    def metric(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The test-split metric, as a 0-dim tensor (no host sync here)."""
        if self.task == "regression":
            return torch.mean((outputs - y) ** 2)
        if self.task == "landscape":
            # outputs is f(theta); a landscape's "test split" holds f*, so this is f - f*.
            return torch.sum(outputs - y)
        return (outputs.argmax(dim=1) == y).float().mean()


class Objective(nn.Module):
    """A landscape's loss: its model already computes f(theta), so the loss is that output."""

    def forward(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return outputs
