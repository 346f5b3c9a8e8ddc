"""The tutorial's training step: zero_grad, forward, loss, backward, step."""

import torch
from torch import nn


class TorchLearner:
    def __init__(self, model: nn.Module, loss_fn: nn.Module, optimizer: torch.optim.Optimizer):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer

    def step(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def train(self) -> None:
        self.model.train()

    def eval(self) -> None:
        self.model.eval()

    def module(self) -> nn.Module:
        return self.model
