"""Batches for the three batch modes: full batch, mini-batch, and single sample (batch 1)."""

from typing import Any, Tuple

import torch


class Batches:
    """Yields (x, y) batches from tensors already on the trial's device.

    Mini-batches follow a seeded permutation per epoch, built on the CPU and moved to the
    device once per epoch, so drawing a batch is device-side indexing with no host sync.
    The last incomplete batch of an epoch is dropped, so every step sees the declared
    batch size (and step times compare like with like).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch: Any, seed: int):
        self.x, self.y = x, y
        self.n = len(x)
        self.size = self.n if batch == "full" else min(int(batch), self.n)
        self.per_epoch = self.n // self.size
        self.generator = torch.Generator()
        self.generator.manual_seed(seed)
        self.position = self.per_epoch  # start a new epoch on the first draw
        self.order = None  # type: Any

    def next(self) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.size == self.n:
            return self.x, self.y
        if self.position == self.per_epoch:
            self.order = torch.randperm(self.n, generator=self.generator).to(self.x.device)
            self.position = 0
        start = self.position * self.size
        self.position += 1
        index = self.order[start : start + self.size]
        return self.x[index], self.y[index]

    def steps_for(self, epochs: float) -> int:
        return max(1, int(round(epochs * self.per_epoch)))
