"""Batches for the three batch modes: full batch, mini-batch, and single sample (batch 1)."""

from typing import Any, Tuple

import torch


class Batches:
    """Yields (x, y) batches from tensors already on the trial's device.

    Mini-batches follow a seeded permutation per epoch. The permutations for the whole
    trial are drawn on the CPU before training and moved to the device in one copy, so
    drawing a batch inside the timed loop is device-side slicing and indexing with no host
    synchronisation -- and the batch order is the same on every device for a given seed.
    The last incomplete batch of an epoch is dropped, so every step sees the declared
    batch size (and step times compare like with like).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch: Any, seed: int):
        self.x, self.y = x, y
        self.n = len(x)
        self.size = self.n if batch == "full" else min(int(batch), self.n)
        self.per_epoch = self.n // self.size
        self.seed = seed
        self.order = None  # type: Any
        self.position = 0

    def steps_for(self, epochs: float) -> int:
        return max(1, int(round(epochs * self.per_epoch)))

    def prepare(self, steps: int) -> None:
        """Draw the batch order for ``steps`` steps (call before the timed loop)."""
        if self.size == self.n:
            return
        generator = torch.Generator()
        generator.manual_seed(self.seed)
        epochs = -(-steps // self.per_epoch)
        usable = self.per_epoch * self.size
        orders = [torch.randperm(self.n, generator=generator)[:usable] for _ in range(epochs)]
        self.order = torch.cat(orders).to(self.x.device)
        self.position = 0

    def next(self) -> Tuple[torch.Tensor, torch.Tensor]:
        if self.size == self.n:
            return self.x, self.y
        start = self.position
        self.position += self.size
        index = self.order[start : start + self.size]
        return self.x[index], self.y[index]
