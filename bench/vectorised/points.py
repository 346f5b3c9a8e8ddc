"""K landscape trials as one: their points theta stacked as a (K, 2) float64 tensor.

The counterpart of bench.learners.landscape's torch learner for a batch: f is evaluated at
every trial's point at once (the surfaces are written with elementwise operators), one
backward pass through the sum gives each trial its own gradient, each trial's pre-drawn
gradient noise is added, and theta is recorded after every step into a (K, steps + 1, 2)
buffer allocated before the timed loop, as the sequential learner records its path.
"""

from typing import Sequence, Tuple

import numpy as np
import torch

from bench.problems.landscapes import Point


class StackedPoints:
    def __init__(self, points: Sequence[Point]):
        self.surface = points[0].surface
        self.params = [torch.stack([p.theta.detach() for p in points]).clone().requires_grad_()]
        self.noise_sd = points[0].noise_sd
        self.noise_seeds = [p.noise_seed for p in points]
        self.noise = None  # type: torch.Tensor
        self.path = None  # type: torch.Tensor
        self.steps_done = 0

    def to(self, device: torch.device) -> "StackedPoints":
        self.params = [p.detach().to(device).requires_grad_() for p in self.params]
        return self

    def prepare(self, steps: int) -> None:
        """The path buffer and every trial's noise (as bench.learners.landscape draws it)."""
        theta = self.params[0]
        self.path = torch.empty((theta.shape[0], steps + 1, 2), dtype=torch.float64, device=theta.device)
        self.path[:, 0] = theta.detach()
        if self.noise_sd:
            tables = [
                np.random.RandomState(seed).normal(0.0, self.noise_sd, size=(steps, 2))
                for seed in self.noise_seeds
            ]
            self.noise = torch.from_numpy(np.stack(tables)).to(theta.device)

    def values(self) -> torch.Tensor:
        theta = self.params[0]
        return self.surface.value(theta[:, 0], theta[:, 1])

    def train_step(self, x: torch.Tensor, y: torch.Tensor, update) -> torch.Tensor:
        losses = self.values()
        (grad,) = torch.autograd.grad(losses.sum(), self.params)
        if self.noise is not None:
            grad = grad + self.noise[:, self.steps_done]
        update.step(self.params, [grad])
        self.steps_done += 1
        self.path[:, self.steps_done] = self.params[0].detach()
        return losses.detach()

    def evaluate(self, x_eval, y_eval, x_test, y_test) -> Tuple[torch.Tensor, torch.Tensor]:
        """(the objective, f itself; the metric, f - f*: the test split holds f*) per trial."""
        values = self.values()
        return values, values - y_test.reshape(-1)

    def positions(self):
        """Each trial's theta now, as (x, y) pairs."""
        return [tuple(row) for row in self.path[:, self.steps_done].tolist()]

    def path_of(self, row: int) -> np.ndarray:
        return self.path[row, : self.steps_done + 1].cpu().numpy()

    def keep(self, rows: torch.Tensor) -> None:
        self.params = [p.detach()[rows].requires_grad_() for p in self.params]
        self.path = self.path[rows]
        if self.noise is not None:
            self.noise = self.noise[rows]
