"""Learners for the landscape problems: a point theta on a 2-D function, three ways.

* ``torch``: f written in torch, autograd's gradient, torch.optim's update.
* ``autograd``: the same gradient, bench.learners.update_rules' hand-written update.
* ``numpy``: the gradient in closed form (bench.surfaces), the update as published
  (bench.learners.textbook), in NumPy.

All three keep theta in float64 and record it after every step into a buffer allocated by
``prepare`` (before the timed loop): the trainer keeps that path as the trial's trajectory.
With the problem's ``noise`` option, every step adds the same pre-drawn Gaussian noise to
the gradient in all three, so they still follow one path.
"""

from typing import Any, Dict, Tuple

import numpy as np
import torch

from bench import optimizers
from bench.learners import textbook, update_rules
from bench.problems.landscapes import Point


class _PointLearner:
    def __init__(self, model: Point):
        self.model = model
        self.surface = model.surface
        self.steps_done = 0
        self.noise = None  # type: Any
        self._path = None  # type: Any

    def _noise_table(self, steps: int) -> np.ndarray:
        """Every step's gradient noise, drawn now from the model's seed: (steps, 2), float64."""
        return np.random.RandomState(self.model.noise_seed).normal(0.0, self.model.noise_sd, size=(steps, 2))

    def path(self) -> np.ndarray:
        """theta at steps 0 .. steps_done, as (steps_done + 1, 2) float64."""
        path = self._path[: self.steps_done + 1]
        return path.cpu().numpy() if isinstance(path, torch.Tensor) else path.copy()

    def position(self) -> Tuple[float, float]:
        x, y = self._path[self.steps_done].tolist()
        return x, y

    # No dropout or batch norm on a point: both modes compute the same.
    def train(self) -> None:
        pass

    def eval(self) -> None:
        pass


class TorchPointLearner(_PointLearner):
    def __init__(self, model: Point, optimizer: str, lr: float, hyper: Dict[str, Any]):
        super().__init__(model)
        self.optimizer = optimizers.build(optimizer, [model.theta], lr, hyper)

    def prepare(self, steps: int) -> None:
        theta = self.model.theta
        self._path = torch.empty((steps + 1, 2), dtype=torch.float64, device=theta.device)
        self._path[0] = theta.detach()
        if self.model.noise_sd:
            self.noise = torch.from_numpy(self._noise_table(steps)).to(theta.device)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad()
        loss = self.model(x)
        loss.backward()
        if self.noise is not None:
            self.model.theta.grad += self.noise[self.steps_done]
        self.optimizer.step()
        self.steps_done += 1
        self._path[self.steps_done] = self.model.theta.detach()
        return loss.detach()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def module(self) -> Point:
        return self.model


class AutogradPointLearner(_PointLearner):
    def __init__(self, model: Point, optimizer: str, lr: float, hyper: Dict[str, Any]):
        super().__init__(model)
        self.theta = model.theta.detach().clone().requires_grad_()
        self.optimizer = update_rules.HandWrittenOptimizer(optimizer, [self.theta], lr, hyper)

    prepare = TorchPointLearner.prepare

    def _value(self) -> torch.Tensor:
        return self.surface.value(self.theta[0], self.theta[1])

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self._value()
        loss.backward()
        with torch.no_grad():
            grad = self.theta.grad if self.noise is None else self.theta.grad + self.noise[self.steps_done]
            self.optimizer.step([grad])
            self.theta.grad.zero_()
            self.steps_done += 1
            self._path[self.steps_done] = self.theta
        return loss.detach()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self._value()

    def module(self) -> Point:
        with torch.no_grad():
            self.model.theta.copy_(self.theta)
        return self.model


class NumpyPointLearner(_PointLearner):
    def __init__(self, model: Point, optimizer: str, lr: float, hyper: Dict[str, Any]):
        super().__init__(model)
        if model.theta.device.type != "cpu":
            raise ValueError("the numpy implementation runs on the CPU only; use device 'cpu'")
        self.theta = model.theta.detach().numpy().copy()
        self.update = textbook.rule(optimizer, lr, hyper)
        self.state = {}  # type: Dict[str, Any]

    def prepare(self, steps: int) -> None:
        self._path = np.empty((steps + 1, 2))
        self._path[0] = self.theta
        if self.model.noise_sd:
            self.noise = self._noise_table(steps)

    # A diverging path overflows to inf / nan; the trainer reads that from the loss, and
    # NumPy's RuntimeWarnings would only repeat it on stderr each step (torch is silent).
    @np.errstate(over="ignore", invalid="ignore")
    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss = self.surface.value(self.theta[0], self.theta[1])
        grad = np.array(self.surface.gradient(self.theta[0], self.theta[1]))
        if self.noise is not None:
            grad += self.noise[self.steps_done]
        self.update(self.theta, grad, self.state)
        self.steps_done += 1
        self._path[self.steps_done] = self.theta
        return torch.tensor(float(loss), dtype=torch.float64)

    @np.errstate(over="ignore", invalid="ignore")
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor(float(self.surface.value(self.theta[0], self.theta[1])), dtype=torch.float64)

    def module(self) -> Point:
        with torch.no_grad():
            self.model.theta.copy_(torch.from_numpy(self.theta))
        return self.model


LEARNERS = {"torch": TorchPointLearner, "autograd": AutogradPointLearner, "numpy": NumpyPointLearner}


def build(
    implementation: str, model: Point, optimizer: str, lr: float, hyper: Dict[str, Any], tensorflow=None
):
    if implementation == "tensorflow":  # imported only when a trial asks for it
        from bench.learners.tensorflow_landscape import TensorflowPointLearner

        settings = tensorflow or {}
        return TensorflowPointLearner(
            model, optimizer, lr, hyper, updates=settings.get("updates", "keras"),
            compiled=bool(settings.get("compiled", False)), threads=int(settings.get("threads", 1)),
        )  # fmt: skip
    return LEARNERS[implementation](model, optimizer, lr, hyper)
