"""Batches for K trials at once: each trial's own data and its own batch order.

Each trial's order is the one bench.batches.Batches draws for it alone (its seed, its
permutations), so a trial sees the same samples at each step as in a sequential run; the
orders are stacked into one (K, steps * size) index and a step's batch is one gather per
tensor. Full batch: the stacked data itself, every step.
"""

from typing import Any, Sequence, Tuple

import torch

from bench.batches import Batches


class StackedBatches:
    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch: Any, seeds: Sequence[int]):
        """x: (K, N, inputs), y: (K, N, outputs), already on the trials' device."""
        self.x, self.y = x, y
        self.alone = [Batches(x[k], y[k], batch, seed) for k, seed in enumerate(seeds)]
        self.size, self.per_epoch = self.alone[0].size, self.alone[0].per_epoch
        self.full = self.size == x.shape[1]
        self.order = None  # type: Any
        self.position = 0

    def steps_for(self, epochs: float) -> int:
        return self.alone[0].steps_for(epochs)

    def prepare(self, steps: int) -> None:
        """Every trial's batch order for ``steps`` steps (call before the timed loop)."""
        if self.full:
            return
        for batches in self.alone:
            batches.prepare(steps)
        self.order = torch.stack([batches.order for batches in self.alone])
        self.position = 0

    def next(self) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.full:
            return self.x, self.y
        start = self.position
        self.position += self.size
        index = self.order[:, start : start + self.size].unsqueeze(2)
        return (
            torch.gather(self.x, 1, index.expand(-1, -1, self.x.shape[2])),
            torch.gather(self.y, 1, index.expand(-1, -1, self.y.shape[2])),
        )

    def keep(self, rows: torch.Tensor) -> None:
        self.x, self.y = self.x[rows], self.y[rows]
        if self.order is not None:
            self.order = self.order[rows]
